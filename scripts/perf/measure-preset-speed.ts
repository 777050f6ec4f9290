/**
 * The speed half of a preset's row, in a process of its own (`npm run bench:perf` runs it after
 * scripts/sam-memory.ts has measured the preset's loading and memory): the encoder on the calling
 * thread, the decoder, and the encoder over an EncoderPool with as many workers as the machine
 * holds.
 *
 *   ts-node scripts/perf/measure-preset-speed.ts --checkpoint <file or folder> --out <json>
 *     [--images K] [--decoder-calls N] [--backend wasm]
 *
 * One image is encoded untimed first (the first pass packs the weights), then K timed on the
 * calling thread, as `alignsam embed --workers 1` encodes; then N decoder calls with one prompt set;
 * then K images per worker over the pool, timed after its workers have loaded. After each stage the
 * result so far is written to --out, so a process that dies leaves what it measured.
 */
import * as fs from 'fs';
import { BackendName, initBackend } from '../../src/backend';
import type { PresetRow } from '../../src/report/performance-data';
import { defaultEncoderWorkers, EncoderPool } from '../../src/sam/encoder-pool';
import { loadSam } from '../../src/sam/pretrained';
import { median } from '../../src/utils/median';
import { Rng } from '../../src/utils/rng';
import { arg, requiredArg } from '../cli-args';
import { callingThreadSide } from './ours-sides';

export type PresetSpeed = Pick<
  PresetRow,
  'imageSize' | 'encoderOneWorker' | 'encoderAllWorkers' | 'decoderMs' | 'decoderCalls' | 'error'
>;

async function main(): Promise<void> {
  const checkpoint = requiredArg('measure-preset-speed', 'checkpoint');
  const out = requiredArg('measure-preset-speed', 'out');
  const images = Number(arg('images', '2'));
  const decoderCalls = Number(arg('decoder-calls', '10'));
  const backend = await initBackend(arg('backend', 'wasm') as BackendName);
  const [width, height] = [640, 480];
  const rng = new Rng(1);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const image = { width, height, data };

  const result: PresetSpeed = {
    imageSize: [width, height],
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
  save();
  try {
    const sam = await loadSam(checkpoint);
    const side = callingThreadSide(sam, image, backend);
    const encoderMs: number[] = [];
    for (let i = 0; i < images; i++) encoderMs.push(await side.encoder());
    const oneWorker = { workers: 1, images, secondsPerImage: encoderMs.reduce((a, b) => a + b, 0) / images / 1000 };
    result.encoderOneWorker = oneWorker;
    console.log(`encoder ${oneWorker.secondsPerImage.toFixed(2)} s/image on the calling thread`);
    save();

    await side.decoder!(3);
    result.decoderMs = median(await side.decoder!(decoderCalls));
    console.log(`decoder ${result.decoderMs.toFixed(1)} ms`);
    save();
    await side.close();
    const config = sam.config;
    sam.dispose();

    const workers = defaultEncoderWorkers(checkpoint, config);
    const pool = new EncoderPool({ checkpoint, config, workers });
    try {
      await pool.ready();
      const n = images * workers;
      const t = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => pool.encode(image, `image ${i}`)));
      const all = { workers, images: n, secondsPerImage: (performance.now() - t) / n / 1000 };
      result.encoderAllWorkers = all;
      console.log(`encoder ${all.secondsPerImage.toFixed(2)} s/image over ${workers} workers`);
    } finally {
      await pool.close();
    }
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
