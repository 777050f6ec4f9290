import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config/load-config';
import { loadSam } from '../../src/sam/pretrained';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { readMetrics } from '../../src/io/metrics-log';
import { listCheckpoints } from '../../src/runs/run-dir';
import { readEventFile } from '../../src/runs/tfevents';
import { formatEvaluationTable } from '../../src/eval/compare';
import { resolveCheckpoint } from '../../src/runs/export';
import { trainRun } from '../../src/runs/train-run';

const TINY_WEIGHTS = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors');

function tinyConfig(runDir: string, total: number) {
  return resolveConfig(
    {
      sam: { checkpoint: TINY_WEIGHTS },
      data: { synthetic: { length: 12, eval_length: 4, image_size: 64 } },
      env: { grid_size: 4, horizon: 4, label_source: 'recalibration', num_envs: 2, embedding_cache: { dir: null } },
      srm: { enabled: true, q: 1, pretrain: { images: 4, updates: 3, batch_size: 2 } },
      agent: { ppo: { n_steps: 4, batch_size: 8, n_epochs: 1 } },
      train: { total_timesteps: total, checkpoint_every: 8, eval_every: 8, eval_episodes: 2, progress: false },
      eval: { episodes: 2, pictures: 1, baselines: ['random', 'oracle'], clicks: [1, 2, 4] },
      run: { name: 'tiny', dir: runDir },
    },
    'test config',
  );
}

let sam: SamModel;
const quiet = () => undefined;

beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(TINY_WEIGHTS);
});

afterAll(() => sam.dispose());

/** Every (tag, step) pair at most once, steps increasing per tag. */
function expectNoDuplicates(records: ReturnType<typeof readMetrics>): void {
  const last = new Map<string, number>();
  for (const r of records) {
    for (const tag of Object.keys(r)) {
      if (tag === 'step' || tag === 'wall_time') continue;
      const prev = last.get(tag);
      if (prev !== undefined) expect(r.step).toBeGreaterThan(prev);
      last.set(tag, r.step);
    }
  }
}

describe('trainRun', () => {
  it('trains, checkpoints, logs, evaluates against baselines and writes the report; resumes after a crash without duplicates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-train-'));
    const first = await trainRun({ config: tinyConfig(dir, 16), sam, progress: null, log: quiet });
    const root = first.paths.root;
    expect(first.numTimesteps).toBe(16);
    expect(listCheckpoints(first.paths.checkpoints).map((c) => c.step)).toEqual([8, 16]);
    // The SRM is saved with each checkpoint and trained online (its losses are logged).
    expect(fs.existsSync(path.join(first.paths.checkpoints, 'model_8_steps', 'srm', 'srm.json'))).toBe(true);
    expect(fs.existsSync(path.join(first.paths.best, 'agent.json'))).toBe(true);
    expect(first.evaluation.map((r) => r.policy)).toEqual(['agent', 'random', 'oracle']);
    expect(formatEvaluationTable(first.evaluation)).toMatch(
      /^Protocol: deployed .*\npolicy\s+mIoU@1\s+mIoU@2\s+mIoU@4\s+NoC@85/,
    );
    expect(first.evaluation.every((r) => r.protocol === 'deployed')).toBe(true);
    const evalJson = JSON.parse(fs.readFileSync(first.paths.evalJson, 'utf8'));
    expect(evalJson.protocol).toBe('deployed');
    // The final evaluation evaluates the checkpoint `export` takes by default, and says which.
    expect(evalJson.checkpoint).toBe(path.join('checkpoints', 'model_16_steps'));
    expect(first.checkpoint).toBe(resolveCheckpoint(root, 'latest', true));
    expect(evalJson.policies.map((p: { policy: string }) => p.policy)).toEqual(['agent', 'random', 'oracle']);
    for (const f of [first.report!.training!, first.report!.miouClicks!, ...first.report!.episodes]) {
      const meta = await sharp(f).metadata();
      expect(meta.format).toBe('png');
    }
    expect((await sharp(first.report!.miouClicks!).metadata()).width).toBe(720);
    const before = readMetrics(path.join(root, 'metrics.jsonl'));
    expect(before.some((r) => typeof r['eval/final_iou'] === 'number')).toBe(true);
    expect(
      before.some((r) => typeof r['ppo/approx_kl'] === 'number' && typeof r['rollout/ep_rew_mean'] === 'number'),
    ).toBe(true);
    expect(
      before.some((r) => typeof r['srm/loss'] === 'number' && typeof r['rollout/label_accuracy'] === 'number'),
    ).toBe(true);

    // A crash after the step-8 checkpoint: the step-16 checkpoint never made it to disk.
    fs.rmSync(path.join(first.paths.checkpoints, 'model_16_steps'), { recursive: true });
    const resumed = await trainRun({
      config: tinyConfig(dir, 16),
      resumeDir: root,
      resumeOverrides: ['train.total_timesteps=24', 'eval.baselines=[]'],
      sam,
      progress: null,
      log: quiet,
    });
    expect(resumed.resumedFrom).toBe(8);
    expect(resumed.numTimesteps).toBe(24);
    expect(listCheckpoints(resumed.paths.checkpoints).map((c) => c.step)).toEqual([8, 16, 24]);
    const records = readMetrics(path.join(root, 'metrics.jsonl'));
    expectNoDuplicates(records);
    expect(Math.max(...records.map((r) => r.step))).toBe(24);
    // The resumed config is the run's config for the next resume.
    expect(fs.readFileSync(path.join(root, 'config.yaml'), 'utf8')).toMatch(/total_timesteps: 24\n/);
    const events = fs
      .readdirSync(root)
      .filter((f) => f.startsWith('events.out.tfevents.'))
      .sort()
      .flatMap((f) => readEventFile(path.join(root, f)))
      .filter((e) => e.fileVersion === undefined);
    const byTag = new Map<string, number[]>();
    for (const e of events)
      for (const tag of Object.keys(e.scalars)) byTag.set(tag, [...(byTag.get(tag) ?? []), e.step]);
    for (const [, steps] of byTag) expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(byTag.get('rollout/ep_rew_mean')).toEqual(
      records.filter((r) => typeof r['rollout/ep_rew_mean'] === 'number').map((r) => r.step),
    );
    // TensorBoard gets the config text and the hyper-parameters once, kept through the resume.
    const info = events.flatMap((e) => e.otherValues ?? []).map((v) => new TextDecoder().decode(v));
    expect(info.filter((t) => t.includes('_hparams_/session_start_info'))).toHaveLength(1);
    expect(info.filter((t) => t.includes('label_source: recalibration'))).toHaveLength(1);
  });

  it('refuses to overwrite an existing run folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-train-'));
    fs.mkdirSync(path.join(dir, 'tiny'));
    fs.writeFileSync(path.join(dir, 'tiny', 'config.yaml'), '{}');
    await expect(trainRun({ config: tinyConfig(dir, 8), sam, progress: null, log: quiet })).rejects.toThrow(
      /already exists; continue it with --resume/,
    );
  });
});
