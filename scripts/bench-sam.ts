/**
 * SAM speed on the default backend with the vitb2 fixture weights (real ViT-B geometry, 2 blocks,
 * full-size decoder): ms per decoder call with one prompt set, ms per prompt set with 8 batched,
 * ms per image for the encoder, each with the (reference-equivalent) GFLOP/s it reaches.
 *
 *   npm run bench:sam [-- --backend wasm|tensorflow|auto] [--repeats 10] [--encoder-repeats 5] [--image 320x240]
 *
 * With --preset (vit_b, vit_l, vit_h, micro, a comma-separated list, or all): what each preset costs
 * on wasm instead, in a process of its own (scripts/sam-memory.ts): build time, encoder seconds for
 * one 1024-px image, peak RSS and wasm heap, beside the model's memory plan.
 *
 *   npm run bench:sam -- --preset all [--via memory|safetensors]
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../src/backend';
import { loadSam } from '../src/sam/pretrained';
import { encodeImage } from '../src/sam/image-encoding';
import { decoderFlops, encoderFlops } from '../src/sam/flops';
import { SamPredictor, disposePrediction, PromptInput } from '../src/sam/predictor';
import { Rng } from '../src/utils/rng';
import { arg } from './cli-args';
import { formatPresetMemory, measurePresetMemory, MEMORY_PRESETS, type MemoryPreset } from './sam-memory';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const presets = arg('preset', '');
  if (presets) {
    const via = arg('via', 'memory') as 'memory' | 'safetensors';
    for (const preset of presets === 'all' ? MEMORY_PRESETS : (presets.split(',') as MemoryPreset[]))
      console.log(formatPresetMemory(await measurePresetMemory(preset, { via })));
    return;
  }
  const backend = await initBackend(arg('backend', 'auto') as BackendName);
  const repeats = Number(arg('repeats', '10'));
  const weights = path.resolve(
    arg('weights', path.join(__dirname, '../../shared/fixtures/sam/vitb2/weights.safetensors')),
  );
  const sam = await loadSam(weights);
  const rng = new Rng(0);
  // The official script's size (scripts/reference/bench_official_sam.py), for like-for-like numbers.
  const [width, height] = arg('image', '320x240').split('x').map(Number);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const image = { width, height, data };
  console.log(
    `backend ${backend}; model ${sam.config.name} (${path.relative(process.cwd(), weights)}); load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; ${os.cpus().length} CPUs`,
  );

  const encodeMs: number[] = [];
  const encRepeats = Number(arg('encoder-repeats', '5'));
  let embedding = encodeImage(sam, image);
  for (let i = 0; i < encRepeats; i++) {
    embedding.dispose();
    const t = performance.now();
    embedding = encodeImage(sam, image);
    await embedding.embedding.data();
    encodeMs.push(performance.now() - t);
  }
  const predictor = new SamPredictor(sam);
  predictor.setEmbedding(embedding);
  const prompt = (): PromptInput => ({
    pointCoords: [rng.uniform(0, width), rng.uniform(0, height)],
    pointLabels: [1],
    multimaskOutput: true,
    lowResOnly: true,
  });
  const timeOne = async (withPost: boolean) => {
    const t = performance.now();
    const p = predictor.predict({ ...prompt(), lowResOnly: !withPost });
    await p.lowResLogits.data();
    if (p.masks) await p.masks.data();
    const ms = performance.now() - t;
    disposePrediction(p);
    return ms;
  };
  for (let i = 0; i < 3; i++) await timeOne(false);
  const oneMs: number[] = [];
  const postMs: number[] = [];
  for (let i = 0; i < repeats; i++) oneMs.push(await timeOne(false));
  for (let i = 0; i < repeats; i++) postMs.push(await timeOne(true));
  const batchMs: number[] = [];
  for (let i = 0; i < Math.max(3, repeats / 2); i++) {
    const t = performance.now();
    const outs = predictor.predictBatch(Array.from({ length: 8 }, prompt));
    for (const o of outs) await o.lowResLogits.data();
    batchMs.push((performance.now() - t) / 8);
    outs.forEach(disposePrediction);
  }
  const dec = decoderFlops(sam.config, 2, 3);
  const enc = encoderFlops(sam.config);
  // Median (min) over the repeats: the official script prints both, and on a shared VM the minimum
  // is the least disturbed run.
  const row = (name: string, xs: number[], flops: number) => {
    const ms = median(xs);
    console.log(
      `${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms (min ${Math.min(...xs)
        .toFixed(1)
        .padStart(7)})   ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`,
    );
  };
  row('decoder, 1 prompt set (median)', oneMs, dec);
  row('decoder + full-size masks, 1 prompt set', postMs, dec);
  row('decoder, 8 prompt sets batched, per set', batchMs, dec);
  row('image encoder, per image (median)', encodeMs, enc);
  console.log(
    `(decoder ${(dec / 1e9).toFixed(2)} GFLOP per call, encoder ${(enc / 1e9).toFixed(1)} GFLOP per image, reference algorithm)`,
  );
  console.log(`tensors alive: ${tf.memory().numTensors}`);
  embedding.dispose();
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
