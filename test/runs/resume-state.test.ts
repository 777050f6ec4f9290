/**
 * What `--resume` does with a checkpoint that lacks the run's full state (one written by an older
 * version): it continues with new episodes and an empty SRM replay, and says so in a warning. A
 * checkpoint whose run state is damaged is refused with the file and the field, before the run's
 * metrics are touched.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config/load-config';
import { loadSam } from '../../src/sam/pretrained';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { listCheckpoints } from '../../src/runs/run-dir';
import { trainRun } from '../../src/runs/train-run';

const TINY_WEIGHTS = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors');

function tinyConfig(runDir: string, name: string) {
  return resolveConfig(
    {
      sam: { checkpoint: TINY_WEIGHTS },
      data: { synthetic: { length: 12, eval_length: 4, image_size: 64 } },
      env: {
        grid_size: 4,
        horizon: 4,
        label_source: 'recalibration',
        observe_labeler: true,
        num_envs: 2,
        embedding_cache: { dir: null },
      },
      srm: { enabled: true, q: 1, pretrain: { images: 2, updates: 2, batch_size: 2, cache_dir: null } },
      agent: { ppo: { n_steps: 3, batch_size: 6, n_epochs: 1 } },
      train: { total_timesteps: 12, checkpoint_every: 6, eval_every: 0, progress: false },
      eval: { clicks: [1, 4] },
      run: { name, dir: runDir },
    },
    'test config',
  );
}

let sam: SamModel;
let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(TINY_WEIGHTS);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-resume-state-'));
});
afterAll(() => {
  sam.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A run trained to 12 steps, cut back to its step-6 checkpoint as a crash would leave it. */
async function crashedRun(name: string): Promise<{ root: string; ckpt: string }> {
  const r = await trainRun({
    config: tinyConfig(dir, name),
    sam,
    progress: null,
    log: () => undefined,
    skipFinalEval: true,
  });
  fs.rmSync(path.join(r.paths.checkpoints, 'model_12_steps'), { recursive: true });
  return { root: r.paths.root, ckpt: path.join(r.paths.checkpoints, 'model_6_steps') };
}

it('resumes a checkpoint without the run state, the agent episodes and the SRM replay, with a warning naming them', async () => {
  const { root, ckpt } = await crashedRun('old');
  for (const f of ['run.json', 'env.safetensors', path.join('srm', 'replay.safetensors')])
    fs.rmSync(path.join(ckpt, f));
  const agentJson = JSON.parse(fs.readFileSync(path.join(ckpt, 'agent.json'), 'utf8'));
  delete agentJson.state.episodes;
  fs.writeFileSync(path.join(ckpt, 'agent.json'), JSON.stringify(agentJson));
  const srmJson = JSON.parse(fs.readFileSync(path.join(ckpt, 'srm', 'srm.json'), 'utf8'));
  delete srmJson.state.replay;
  delete srmJson.state.lastStats;
  fs.writeFileSync(path.join(ckpt, 'srm', 'srm.json'), JSON.stringify(srmJson));

  const logs: string[] = [];
  const r = await trainRun({
    config: tinyConfig(dir, 'old'),
    resumeDir: root,
    sam,
    progress: null,
    log: (m) => logs.push(m),
    skipFinalEval: true,
  });
  expect(r.resumedFrom).toBe(6);
  expect(r.numTimesteps).toBe(12);
  expect(listCheckpoints(r.paths.checkpoints).map((c) => c.step)).toEqual([6, 12]);
  const warning = logs.filter((l) => l.startsWith('warning:'));
  expect(warning).toHaveLength(1);
  expect(warning[0]).toContain(`${ckpt} was saved without the envs' state (run.json)`);
  expect(warning[0]).toContain("the agent's episodes in flight (agent.json state.episodes)");
  expect(warning[0]).toContain('the SRM replay (srm/replay.safetensors)');
  expect(warning[0]).toContain('continues from it with new episodes and an empty SRM replay');
  // What it wrote from then on is a checkpoint of the current format.
  expect(fs.existsSync(path.join(r.paths.checkpoints, 'model_12_steps', 'run.json'))).toBe(true);
});

it('refuses a damaged run state by file and field, leaving the metrics as they were', async () => {
  const { root, ckpt } = await crashedRun('damaged');
  const file = path.join(ckpt, 'run.json');
  const metrics = fs.readFileSync(path.join(root, 'metrics.jsonl'), 'utf8');
  const resume = () =>
    trainRun({
      config: tinyConfig(dir, 'damaged'),
      resumeDir: root,
      sam,
      progress: null,
      log: () => undefined,
      skipFinalEval: true,
    });
  const good = fs.readFileSync(file, 'utf8');

  const state = JSON.parse(good);
  state.envs[1].episode.sampleIndex = 99;
  fs.writeFileSync(file, JSON.stringify(state));
  await expect(resume()).rejects.toThrow(`${file}: env 1: 'episode.sampleIndex' must be an integer in [0, 12)`);

  fs.writeFileSync(
    file,
    JSON.stringify({ ...JSON.parse(good), episodeStats: { ious: [], labelsRight: [2], episodes: 1 } }),
  );
  await expect(resume()).rejects.toThrow(`${file}: episodeStats: 'labelsRight' must be at most 1000 values of 0 or 1`);

  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(good), formatVersion: 7 }));
  await expect(resume()).rejects.toThrow(`${file}: unsupported formatVersion 7`);

  fs.writeFileSync(file, good);
  fs.rmSync(path.join(ckpt, 'env.safetensors'));
  await expect(resume()).rejects.toThrow(path.join(ckpt, 'env.safetensors'));
  expect(fs.readFileSync(path.join(root, 'metrics.jsonl'), 'utf8')).toBe(metrics);
});
