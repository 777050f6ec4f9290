/**
 * The encoder's kernels against the machine's peak, in a process of its own (`npm run bench:perf --
 * --only kernels`): the rate of the SIMD module's multiply-add probe (`madd_peak_probe`: nothing but
 * independent multiply-adds, in the build the products use), and each large kernel of one ViT-B
 * block on a 1024-px image (64 x 64 tokens) on the calling thread: the four packed products and the
 * global and windowed attention with relative positions. Rounds interleave every measurement, so
 * the probe and the kernels see the same drift of a shared machine.
 *
 *   ts-node scripts/perf/measure-kernels.ts --out <json> [--rounds 5]
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { initBackend } from '../../src/backend';
import type { KernelsResult } from '../../src/report/performance-data';
import { SAM_PRESETS } from '../../src/sam/config';
import { relPosAttention } from '../../src/tfjs-ops/attention';
import { disposePacked, packedMatMul, packMatrix } from '../../src/tfjs-ops/packed-matmul';
import { simdKernels, simdKernelsRelaxed } from '../../src/tfjs-ops/simd/simd-module';
import { arg, requiredArg } from '../cli-args';

interface Kernel {
  name: string;
  shape: string;
  flops: number;
  run(): tf.Tensor;
  dispose(): void;
}

/** a [m, k] @ packed b [k, n], as the encoder's linear layers run. */
function product(name: string, m: number, k: number, n: number): Kernel {
  const a = tf.randomNormal([m, k], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([k, n], 0, 0.05, 'float32', 2) as tf.Tensor2D;
  const packed = packMatrix(b)!;
  b.dispose();
  return {
    name,
    shape: `[${m}, ${k}] @ [${k}, ${n}]`,
    flops: 2 * m * k * n,
    run: () => packedMatMul(a, packed)!,
    dispose: () => {
      a.dispose();
      disposePacked(packed);
    },
  };
}

/** Multi-head attention with decomposed relative positions over `windows` windows of side x side tokens. */
function attention(name: string, windows: number, side: number, dim: number, heads: number): Kernel {
  const n = side * side;
  const dh = dim / heads;
  const [q, k, v] = [3, 4, 5].map((seed) => tf.randomNormal([windows * n, dim], 0, 1, 'float32', seed) as tf.Tensor2D);
  const rel = {
    h: tf.randomNormal([2 * side - 1, dh], 0, 0.1, 'float32', 6) as tf.Tensor2D,
    w: tf.randomNormal([2 * side - 1, dh], 0, 0.1, 'float32', 7) as tf.Tensor2D,
  };
  return {
    name,
    shape: `${windows} x ${side} x ${side} tokens, ${heads} heads of ${dh}`,
    // As src/sam/flops.ts counts it: the scores, the weighted sum and the relative-position terms.
    flops: windows * (2 * 2 * n * n * dim + 2 * n * 2 * side * dim),
    run: () =>
      relPosAttention(q, k, v, rel, { batches: windows, heads, kh: side, kw: side, scale: 1 / Math.sqrt(dh) })!,
    dispose: () => [q, k, v, rel.h, rel.w].forEach((t) => t.dispose()),
  };
}

/** The probe's rate in GFLOP/s over about `seconds` (a multiply-add counts 2 per lane). */
function probe(seconds: number): number {
  const kernels = simdKernels()!;
  const perCall = 2e6;
  let calls = 0;
  const t = performance.now();
  while (performance.now() - t < seconds * 1000) {
    kernels.madd_peak_probe(perCall, 1);
    calls++;
  }
  const elapsed = (performance.now() - t) / 1000;
  return (calls * perCall * 12 * 4 * 2) / elapsed / 1e9;
}

function timeMs(kernel: Kernel): number {
  const t = performance.now();
  const out = kernel.run();
  out.dataSync();
  const ms = performance.now() - t;
  out.dispose();
  return ms;
}

async function main(): Promise<void> {
  const out = requiredArg('measure-kernels', 'out');
  const rounds = Number(arg('rounds', '5'));
  const backend = await initBackend('wasm');
  if (!simdKernels()) throw new Error('measure-kernels: the SIMD kernels are not loaded on this backend');
  const vitB = SAM_PRESETS.vit_b.imageEncoder;
  const [dim, heads, tokens] = [vitB.embedDim, vitB.numHeads, 64 * 64];
  const hidden = Math.floor(dim * vitB.mlpRatio);
  const window = vitB.windowSize;
  const windows = Math.ceil(64 / window) ** 2;
  const kernels = [
    product('qkv projection', tokens, dim, 3 * dim),
    product('output projection', tokens, dim, dim),
    product('MLP, first layer', tokens, dim, hidden),
    product('MLP, second layer', tokens, hidden, dim),
    attention('global attention', 1, 64, dim, heads),
    attention('windowed attention', windows, window, dim, heads),
  ];
  try {
    // Untimed first calls: V8 finishes a call on the tier it started on, and the first calls run on
    // its baseline compiler.
    for (let i = 0; i < 3; i++) probe(0.05);
    for (const k of kernels) k.run().dispose();
    const peak: number[] = [];
    const ms = kernels.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      peak.push(probe(0.3));
      kernels.forEach((k, i) => ms[i].push(timeMs(k)));
      console.log(
        `round ${r + 1}/${rounds}: peak ${peak[r].toFixed(1)} GFLOP/s; ` +
          kernels.map((k, i) => `${k.name} ${((k.flops / ms[i][r]) * 1e-6).toFixed(1)}`).join(', '),
      );
    }
    const result: KernelsResult = {
      backend,
      build: simdKernelsRelaxed() ? 'relaxed' : 'plain',
      rounds,
      peakGflops: peak,
      kernels: kernels.map((k, i) => ({ name: k.name, shape: k.shape, gflop: k.flops / 1e9, ms: ms[i] })),
    };
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(result));
    fs.renameSync(`${out}.tmp`, out);
  } finally {
    kernels.forEach((k) => k.dispose());
  }
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
