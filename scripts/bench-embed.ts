/**
 * Image encoding over worker threads (`EncoderPool`, what `alignsam embed` and training use):
 * images per minute with 1 worker and with N, side by side, for each model. Start-up (loading the
 * model in every worker) is timed apart; each pass encodes the same random 640 x 480 images.
 *
 *   npm run bench:embed [-- --models vit_b,micro] [--workers N] [--images K] [--vit-b <checkpoint>]
 *
 * Models: `vit_b` (the real ViT-B geometry: the checkpoint given by --vit-b, else random weights,
 * which cost the same to run), `vitb2` (the 2-block fixture), `micro` (the embedded micro-SAM), or
 * a model folder or weights file. N defaults to one worker per core; K to enough images for every
 * worker to encode a few (2 per worker for ViT-B, whose images take tens of seconds each).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackendName, initBackend } from '../src/backend';
import type { RgbImage } from '../src/data/types';
import { SAM_PRESETS, type SamConfig } from '../src/sam/config';
import { availableCores, EncoderPool } from '../src/sam/encoder-pool';
import { loadSam } from '../src/sam/pretrained';
import { Rng } from '../src/utils/rng';
import { arg } from './cli-args';
import { writeRandomCheckpoint } from './perf/random-checkpoint';

const ROOT = path.resolve(__dirname, '..');

interface Model {
  name: string;
  checkpoint: string;
  config: SamConfig;
  /** Images per worker when --images is not given. */
  perWorker: number;
}

/** Random ViT-B weights in a temporary file: every worker loads its model from a file. */
async function randomVitB(dir: string): Promise<string> {
  const file = path.join(dir, 'vit_b-random.safetensors');
  await writeRandomCheckpoint(SAM_PRESETS.vit_b, file);
  return file;
}

async function resolveModel(name: string, tmp: string): Promise<Model> {
  if (name === 'vit_b') {
    const given = arg('vit-b', '');
    return {
      name: given ? 'vit_b' : 'vit_b (random weights)',
      checkpoint: given || (await randomVitB(tmp)),
      config: SAM_PRESETS.vit_b,
      perWorker: 2,
    };
  }
  const checkpoint =
    name === 'micro'
      ? path.join(ROOT, 'models', 'micro-sam')
      : name === 'vitb2'
        ? path.resolve(ROOT, '../shared/fixtures/sam/vitb2/weights.safetensors')
        : path.resolve(name);
  // The config as the calling thread resolves it (config.json beside the weights, or inferred).
  const sam = await loadSam(checkpoint);
  const config = sam.config;
  sam.dispose();
  return { name, checkpoint, config, perWorker: config.imageEncoder.imgSize >= 1024 ? 4 : 32 };
}

function randomImages(n: number, width: number, height: number): RgbImage[] {
  const rng = new Rng(1);
  return Array.from({ length: n }, () => {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
    return { width, height, data };
  });
}

/**
 * Seconds to start `workers` workers and to encode `images` with them, and the CPU seconds the
 * encoding took (every thread of the process): on a machine shared with other work the wall clock
 * says what the other work left, the CPU time what the encoding costs.
 */
async function timePool(
  model: Model,
  workers: number,
  images: RgbImage[],
): Promise<{ startup: number; seconds: number; cpu: number }> {
  const pool = new EncoderPool({ checkpoint: model.checkpoint, config: model.config, workers });
  try {
    const t0 = performance.now();
    await pool.ready();
    const t1 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(images.map((im, i) => pool.encode(im, `image ${i}`)));
    const cpu = process.cpuUsage(cpu0);
    return { startup: (t1 - t0) / 1000, seconds: (performance.now() - t1) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const backend = await initBackend(arg('backend', 'wasm') as BackendName);
  const workers = Number(arg('workers', String(availableCores())));
  if (!(Number.isInteger(workers) && workers >= 2))
    throw new Error(`bench-embed: --workers must be an integer >= 2 (to compare with 1), got ${workers}`);
  const names = arg('models', 'vit_b,micro').split(',').filter(Boolean);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-embed-'));
  console.log(
    `backend ${backend}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${availableCores()} available; load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${'model'.padEnd(24)} ${'workers'.padStart(7)} ${'images'.padStart(6)} ${'start-up s'.padStart(10)} ${'encode s'.padStart(9)} ${'images/min'.padStart(10)} ${'ratio'.padStart(6)} ${'CPU s/image'.padStart(11)} ${'cores busy'.padStart(10)}`,
  );
  try {
    for (const name of names) {
      const model = await resolveModel(name, tmp);
      const n = Number(arg('images', String(model.perWorker * workers)));
      const images = randomImages(n, 640, 480);
      let base = 0;
      for (const w of [1, workers]) {
        const r = await timePool(model, w, images);
        const perMinute = (60 * n) / r.seconds;
        base ||= perMinute;
        console.log(
          `${model.name.padEnd(24)} ${String(w).padStart(7)} ${String(n).padStart(6)} ${r.startup.toFixed(1).padStart(10)} ${r.seconds.toFixed(1).padStart(9)} ${perMinute.toFixed(perMinute >= 100 ? 0 : 1).padStart(10)} ${`${(perMinute / base).toFixed(2)}x`.padStart(6)} ${(r.cpu / n).toFixed(r.cpu / n >= 1 ? 2 : 4).padStart(11)} ${(r.cpu / r.seconds).toFixed(2).padStart(10)}`,
        );
      }
    }
    console.log(
      `load avg at the end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
