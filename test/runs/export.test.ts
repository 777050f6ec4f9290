import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config/load-config';
import { SyntheticDataset } from '../../src/data/synthetic';
import { exportRun, loadExport } from '../../src/runs/export';
import { createEvalEnv, createRunParts, loadAgent } from '../../src/runs/factory';
import { predictImage } from '../../src/runs/predict';
import { trainRun } from '../../src/runs/train-run';
import { loadSam } from '../../src/sam/pretrained';
import type { SamModel } from '../../src/sam/modeling/sam-model';

const TINY_WEIGHTS = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors');

function config(runDir: string, name: string, labelSource: 'recalibration' | 'oracle') {
  return resolveConfig(
    {
      sam: { checkpoint: TINY_WEIGHTS },
      data: { synthetic: { length: 8, eval_length: 3, image_size: 64 } },
      env: {
        grid_size: 4,
        horizon: 3,
        label_source: labelSource,
        observe_labeler: true,
        num_envs: 2,
        embedding_cache: { dir: null },
      },
      srm: { enabled: labelSource === 'recalibration' },
      agent: { ppo: { n_steps: 3, batch_size: 6, n_epochs: 1 } },
      train: { total_timesteps: 6, checkpoint_every: 0, progress: false },
      eval: { episodes: 1, baselines: [], clicks: [1, 3], pictures: 0 },
      run: { name, dir: runDir },
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

describe('export and predict', () => {
  it('exports policy, SRM and SAM; the export acts as the checkpoint does and predicts on an image', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-export-'));
    const run = await trainRun({
      config: config(dir, 'srm', 'recalibration'),
      sam,
      progress: null,
      log: quiet,
      skipFinalEval: true,
    });
    const out = path.join(dir, 'export');
    const manifest = await exportRun(run.paths.root, out, { checkpoint: 'latest' });
    expect(manifest.env).toEqual({
      gridSize: 4,
      horizon: 3,
      labelSource: 'recalibration',
      initialPrompts: 'labeler',
      multimaskOutput: 'single-point',
      maskInput: true,
      observeLabeler: true,
    });
    expect(manifest.sam.copied).toBe(true);
    for (const f of [
      'alignsam-export.json',
      'policy.json',
      'policy.weights.bin',
      'sam.safetensors',
      'sam-config.json',
      'srm/srm.json',
    ])
      expect(fs.existsSync(path.join(out, f))).toBe(true);

    const exp = await loadExport(out);
    const c = config(dir, 'srm', 'recalibration');
    const parts = await createRunParts(c, { sam, srmCheckpointDir: manifest.source.checkpoint });
    const env = createEvalEnv(c, parts);
    const agent = await loadAgent(manifest.source.checkpoint, null);
    try {
      let { observation } = await env.reset({ seed: 3 });
      for (let k = 0; k < 3; k++) {
        const fromCheckpoint = await agent.predict(observation, { deterministic: true });
        expect(exp.policy.act([observation], { deterministic: true })[0]).toBe(fromCheckpoint);
        ({ observation } = await env.step(fromCheckpoint));
      }
      const image = (await new SyntheticDataset({ seed: 9, length: 1, imageSize: 64 }).get(0)).image;
      const p = await predictImage(exp, image, null);
      expect(p.initialCount).toBe(2);
      expect(p.clicks).toHaveLength(2 + 3);
      expect(p.clicks.map((k) => k.step)).toEqual([0, 0, 1, 2, 3]);
      expect(new Set(p.clicks.map((k) => k.cell)).size).toBe(5);
      expect(p.mask).toHaveLength(64 * 64);
      const again = await predictImage(exp, image, null);
      expect(again.clicks).toEqual(p.clicks);
    } finally {
      agent.dispose();
      await env.close();
      parts.dispose();
      exp.dispose();
    }
  });

  it('refuses to export an agent that relied on ground-truth labels', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-export-'));
    const run = await trainRun({
      config: config(dir, 'oracle', 'oracle'),
      sam,
      progress: null,
      log: quiet,
      skipFinalEval: true,
    });
    await expect(exportRun(run.paths.root, path.join(dir, 'export'))).rejects.toThrow(
      /trained with env.label_source 'oracle'/,
    );
  });
});
