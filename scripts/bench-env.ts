/**
 * Prompting-env throughput with the full-size decoder (vitb2 fixture weights: ViT-B geometry,
 * 256-wide decoder) on cached embeddings: env steps/s for 1 env and for 8 envs (one batched SAM
 * call per step), synchronous and over worker threads, with tensor count and RSS.
 *
 *   npm run bench:env [-- --steps 60] [--soak 10000] [--workers 2] [--checkpoint micro|<path>]
 *
 * `--checkpoint micro` runs the embedded micro-SAM instead (a quick 10,000-step memory soak).
 * The official code's loop on the same machine: scripts/reference/bench_official_sam.py.
 *
 * Embeddings are cached on disk in .cache/bench-env, so only the first run pays for encoding.
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../src/backend';
import { SyntheticDataset } from '../src/data/synthetic';
import { SamPromptVectorEnv } from '../src/env/prompt/sam-prompt-vector-env';
import { SamPromptWorkerVectorEnv } from '../src/env/prompt/sam-prompt-worker-env';
import type { PromptObservation } from '../src/env/prompt/observation';
import { loadSam } from '../src/sam/pretrained';
import { EmbeddingCache } from '../src/sam/embedding-cache';
import { Rng } from '../src/utils/rng';
import { arg } from './cli-args';

const VITB2 = path.resolve(__dirname, '../../shared/fixtures/sam/vitb2/weights.safetensors');
const MICRO = path.resolve(__dirname, '../models/micro-sam/weights.safetensors');
const DATA = { seed: 3, length: 2, imageSize: [320, 240] as [number, number] };

interface VecLike {
  reset(o?: { seed?: number }): Promise<{ observations: PromptObservation[] }>;
  step(a: number[]): Promise<{ observations: PromptObservation[] }>;
  close(): Promise<void>;
}

async function measure(venv: VecLike, steps: number, rng: Rng): Promise<number> {
  let obs = (await venv.reset({ seed: 0 })).observations;
  const act = () =>
    obs.map((o) => {
      const allowed: number[] = [];
      o.actionMask.forEach((m, a) => m && allowed.push(a));
      return allowed[rng.int(allowed.length)];
    });
  for (let i = 0; i < 3; i++) obs = (await venv.step(act())).observations; // warm-up
  const t = performance.now();
  for (let i = 0; i < steps; i++) obs = (await venv.step(act())).observations;
  return (steps * obs.length) / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  const backend = await initBackend(arg('backend', 'auto') as BackendName);
  const steps = Number(arg('steps', '30'));
  const soak = Number(arg('soak', '0'));
  const workers = Number(arg('workers', '2'));
  const checkpoint = arg('checkpoint', 'vitb2');
  const WEIGHTS = checkpoint === 'vitb2' ? VITB2 : checkpoint === 'micro' ? MICRO : path.resolve(checkpoint);
  const CACHE_DIR = path.resolve(__dirname, '../.cache/bench-env', path.basename(path.dirname(WEIGHTS)));
  const sam = await loadSam(WEIGHTS);
  console.log(`checkpoint ${path.relative(process.cwd(), WEIGHTS)}`);
  const embeddings = new EmbeddingCache(sam, { dir: CACHE_DIR });
  const dataset = new SyntheticDataset(DATA);
  console.log(
    `backend ${backend}; ${os.cpus().length} CPUs; load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const t0 = performance.now();
  for (let i = 0; i < dataset.length; i++) await embeddings.warm((await dataset.get(i)).image);
  console.log(
    `embeddings ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${embeddings.getStats().computed} computed, cache ${path.relative(process.cwd(), CACHE_DIR)})`,
  );
  const envOptions = { dataset, embeddings, labelSource: 'oracle' as const, gridSize: 10, horizon: 15 };
  const rng = new Rng(1);
  for (const n of [1, 8]) {
    const venv = new SamPromptVectorEnv({ ...envOptions, numEnvs: n });
    const sps = await measure(venv, steps, rng);
    console.log(
      `sync,   ${n} env${n > 1 ? 's' : ' '}: ${sps.toFixed(1).padStart(6)} env steps/s   (tensors ${tf.memory().numTensors}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
    );
    if (n === 8 && soak > 0) {
      let obs = (await venv.reset({ seed: 1 })).observations;
      const tensors0 = tf.memory().numTensors;
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      for (let i = 0; i < soak / n; i++) {
        obs = (await venv.step(obs.map((o) => o.actionMask.indexOf(1)))).observations;
        peak = Math.max(peak, process.memoryUsage().rss);
        if ((i + 1) % Math.ceil(soak / n / 10) === 0) {
          console.log(
            `  soak ${(i + 1) * n} steps: tensors ${tf.memory().numTensors - tensors0 >= 0 ? '+' : ''}${tf.memory().numTensors - tensors0}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (peak ${(peak / 2 ** 20).toFixed(0)})`,
          );
        }
      }
    }
    await venv.close();
  }
  const workerEnv = await SamPromptWorkerVectorEnv.create({
    numEnvs: 8,
    numWorkers: workers,
    env: {
      checkpoint: WEIGHTS,
      cacheDir: CACHE_DIR,
      data: { type: 'synthetic', ...DATA },
      labelSource: 'oracle',
      gridSize: 10,
      horizon: 15,
      backend,
    },
    embeddings,
  });
  const wsps = await measure(workerEnv, steps, rng);
  console.log(`worker, 8 envs over ${workers} threads: ${wsps.toFixed(1).padStart(6)} env steps/s`);
  await workerEnv.close();
  console.log(
    `peak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; the official SamPredictor loop on this machine: python3 scripts/reference/bench_official_sam.py`,
  );
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
