/**
 * A small export for the demo page when the user has none yet: a short PPO run on the synthetic
 * task with the embedded micro-SAM (a few dozen steps: the agent is barely trained), exported with
 * the real `alignsam export` code. Used by `npm run demo` without --export and by the demo test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resolveConfig } from '../src/config/load-config';
import { exportRun, EXPORT_MANIFEST, type ExportManifest } from '../src/runs/export';
import { trainRun } from '../src/runs/train-run';

export interface QuickExportOptions {
  /** Work folder: the run goes in `<dir>/run`, the export in `<dir>/export`. */
  dir: string;
  /** Agent clicks per episode. Default 6. */
  horizon?: number;
  /** PPO timesteps. Default 2 episodes of each of the 2 envs. */
  timesteps?: number;
  log?: (message: string) => void;
}

/** Train briefly and export; returns the export folder and its manifest. */
export async function makeQuickExport(
  opts: QuickExportOptions,
): Promise<{ exportDir: string; manifest: ExportManifest }> {
  const horizon = opts.horizon ?? 6;
  const numEnvs = 2;
  const timesteps = opts.timesteps ?? 2 * numEnvs * horizon;
  const config = resolveConfig(
    {
      sam: { checkpoint: 'micro' },
      data: {
        synthetic: { seed: 0, length: 16, eval_length: 4, image_size: 128, targets: ['star'], distractors: [1, 3] },
      },
      env: {
        grid_size: 10,
        horizon,
        label_source: 'recalibration',
        num_envs: numEnvs,
        vector: 'sync',
        embedding_cache: { dir: null },
      },
      srm: { enabled: true, branch: 'implicit' },
      agent: { algo: 'ppo', ppo: { n_steps: horizon, batch_size: numEnvs * horizon, n_epochs: 1 } },
      train: { total_timesteps: timesteps, checkpoint_every: 0, progress: false, seed: 0 },
      eval: { episodes: 1, baselines: [], clicks: [1], pictures: 0 },
      run: { name: 'demo-quick', dir: opts.dir },
    },
    'demo quick export',
  );
  const runRoot = path.join(opts.dir, 'demo-quick');
  fs.rmSync(runRoot, { recursive: true, force: true });
  const run = await trainRun({ config, progress: null, log: opts.log ?? (() => undefined), skipFinalEval: true });
  const exportDir = path.join(opts.dir, 'export');
  const manifest = await exportRun(run.paths.root, exportDir, { checkpoint: 'latest', log: opts.log });
  if (!fs.existsSync(path.join(exportDir, EXPORT_MANIFEST)))
    throw new Error(`${exportDir}: export did not write ${EXPORT_MANIFEST}`);
  return { exportDir, manifest };
}
