/**
 * One SAM preset measured in a process of its own, so that its peak RSS is its own and an abort
 * ends only this process: `npm run bench:perf` runs it once per preset.
 *
 *   ts-node scripts/perf/measure-preset.ts --preset vit_b --checkpoint <file or folder> --out <json>
 *     [--images K] [--decoder-calls N] [--backend wasm]
 *
 * In order: load the model (timed), encode one image on the calling thread (untimed: the first pass
 * packs weights), K more (timed), then the peak RSS and the wasm heap, N decoder calls, and K
 * images per worker over an EncoderPool with as many workers as the machine holds. After each
 * stage the result so far is written to --out, so a process that dies leaves what it measured.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../../src/backend';
import { readSafetensorsHeader } from '../../src/io/safetensors';
import { PERF_PRESETS, type PresetRow } from '../../src/report/performance-data';
import { defaultEncoderWorkers, EncoderPool } from '../../src/sam/encoder-pool';
import { loadSam, resolvePretrained } from '../../src/sam/pretrained';
import { median } from '../../src/utils/median';
import { Rng } from '../../src/utils/rng';
import { arg, requiredArg } from '../cli-args';
import { callingThreadSide } from './ours-sides';

/** What the child reports: a preset row without its provenance, which the caller adds. */
export type PresetResult = Omit<PresetRow, 'run'> & { backend: string };

/** The wasm backend's heap (tfjs-wasm's own memory), or null on another backend. */
function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : null;
}

/** Values in a checkpoint's weights file. */
export async function parameterCount(checkpoint: string): Promise<number> {
  const { entries } = await readSafetensorsHeader(resolvePretrained(checkpoint).weights);
  return entries.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
}

async function main(): Promise<void> {
  const preset = requiredArg('measure-preset', 'preset') as PresetRow['preset'];
  if (!PERF_PRESETS.includes(preset))
    throw new Error(`measure-preset: --preset must be one of ${PERF_PRESETS.join(', ')}`);
  const checkpoint = requiredArg('measure-preset', 'checkpoint');
  const out = requiredArg('measure-preset', 'out');
  const images = Number(arg('images', '2'));
  const decoderCalls = Number(arg('decoder-calls', '10'));
  const backend = await initBackend(arg('backend', 'wasm') as BackendName);
  const [width, height] = [640, 480];
  const rng = new Rng(1);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const image = { width, height, data };

  const result: PresetResult = {
    preset,
    backend,
    weights: arg('weights', checkpoint),
    parameters: await parameterCount(checkpoint),
    imageSize: [width, height],
    loadSeconds: null,
    peakRssBytes: null,
    wasmHeapBytes: null,
    encoderOneWorker: null,
    encoderAllWorkers: null,
    decoderMs: null,
    decoderCalls,
    error: null,
  };
  const save = () => {
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(result));
    fs.renameSync(`${out}.tmp`, out);
  };
  const stage = (what: string) =>
    console.log(`${preset}: ${what} (${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB RSS)`);
  save();
  try {
    let t = performance.now();
    const sam = await loadSam(checkpoint);
    result.loadSeconds = (performance.now() - t) / 1000;
    stage(`loaded in ${result.loadSeconds.toFixed(1)} s`);
    save();

    const side = callingThreadSide(sam, image, backend);
    stage('first image encoded');
    const encoderMs: number[] = [];
    for (let i = 0; i < images; i++) encoderMs.push(await side.encoder());
    result.encoderOneWorker = {
      workers: 1,
      images,
      secondsPerImage: encoderMs.reduce((a, b) => a + b, 0) / images / 1000,
    };
    result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
    result.wasmHeapBytes = wasmHeapBytes();
    stage(`encoder ${result.encoderOneWorker.secondsPerImage.toFixed(2)} s/image on 1 thread`);
    save();

    await side.decoder!(3);
    result.decoderMs = median(await side.decoder!(decoderCalls));
    stage(`decoder ${result.decoderMs.toFixed(1)} ms`);
    save();
    await side.close();
    const config = sam.config;
    sam.dispose();

    const workers = defaultEncoderWorkers(checkpoint, config);
    const pool = new EncoderPool({ checkpoint, config, workers });
    try {
      await pool.ready();
      const n = images * workers;
      t = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => pool.encode(image, `image ${i}`)));
      result.encoderAllWorkers = { workers, images: n, secondsPerImage: (performance.now() - t) / n / 1000 };
    } finally {
      await pool.close();
    }
    stage(`encoder ${result.encoderAllWorkers.secondsPerImage.toFixed(2)} s/image over ${workers} workers`);
    save();
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
    save();
    throw err;
  }
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
