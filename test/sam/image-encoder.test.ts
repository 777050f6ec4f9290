import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { SamConfig } from '../../src/sam/config';
import { smallSamVariant } from './small-sam';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { ImageEncoder } from '../../src/sam/modeling/image-encoder';
import { ParamStore } from '../../src/sam/weights/params';
import { measureHeapUse } from '../../src/tfjs-ops/wasm-heap';
import { packedMatMulPreferred } from '../../src/tfjs-ops/packed-matmul';
import { loadSimdKernels } from '../../src/tfjs-ops/simd/simd-module';

/**
 * A geometry no fixture has, for the encoder's kernel path (packed products, attention kernel,
 * packed neck convolution): 96-px input, 12x12 grid, windows of 5 (padded to 15), a global block,
 * head width 10 and encoder widths (30, 60) off the 8-column panels.
 */
const odd: SamConfig = smallSamVariant(
  'odd-encoder',
  { imgSize: 96, embedDim: 30, depth: 3, numHeads: 3, windowSize: 5, globalAttnIndexes: [1] },
  { mlpDim: 24 },
);

let sam: SamModel;
let input: tf.Tensor3D;
beforeAll(async () => {
  await initBackend('wasm');
  sam = SamModel.fromWeights(odd, randomSamWeights(odd, 7), { weightsId: 'odd-encoder-7' });
  input = tf.randomNormal([96, 96, 3], 0, 1, 'float32', 11) as tf.Tensor3D;
});
afterAll(async () => {
  await loadSimdKernels({ build: 'relaxed' });
  sam.dispose();
  input.dispose();
});

test('the kernel path (relaxed build) equals the tf-op path (plain build) on a geometry no fixture has', async () => {
  expect(packedMatMulPreferred()).toBe(true);
  expect(sam.memoryPlan?.weightForm).toBe('packed');
  const viaKernels = sam.encodeImage(input);
  await loadSimdKernels({ build: 'plain' });
  expect(packedMatMulPreferred()).toBe(false);
  // Built under the plain build, a model keeps plain weights on tf.matMul; the packed model keeps
  // its panels and runs the tf-op attention.
  const plain = SamModel.fromWeights(odd, randomSamWeights(odd, 7));
  expect(plain.memoryPlan?.weightForm).toBe('plain');
  const viaOps = plain.encodeImage(input);
  const packedViaOps = sam.encodeImage(input);
  plain.dispose();
  await loadSimdKernels({ build: 'relaxed' });
  expect(viaKernels.shape).toEqual([12, 12, 16]);
  const scale = tf.max(tf.abs(viaOps)).dataSync()[0];
  expect(tf.max(tf.abs(viaKernels.sub(viaOps))).dataSync()[0]).toBeLessThan(1e-4 * scale);
  expect(tf.max(tf.abs(packedViaOps.sub(viaOps))).dataSync()[0]).toBeLessThan(1e-4 * scale);
  tf.dispose([viaKernels, viaOps, packedViaOps]);
});

test('the tf-op attention in chunks of query rows equals it unchunked, in less memory', async () => {
  // A global 32x32 block of narrow tokens: its 1024 x 1024 scores per head set the pass's peak;
  // one chunk holds them all by default.
  const config = smallSamVariant('chunked', {
    imgSize: 256,
    embedDim: 16,
    depth: 1,
    numHeads: 2,
    globalAttnIndexes: [0],
  });
  const image = tf.randomNormal([256, 256, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
  const weights = randomSamWeights(config, 3);
  await loadSimdKernels({ build: 'plain' });
  try {
    const encode = (maxScoreElements?: number) => {
      const encoder = new ImageEncoder(config.imageEncoder, new ParamStore(weights), 'image_encoder', {
        maxScoreElements,
      });
      let out: tf.Tensor3D | null = null;
      const use = measureHeapUse(() => {
        out = encoder.forward(image);
      });
      return { out: out! as tf.Tensor3D, peak: use.peakBytes };
    };
    const whole = encode();
    // One row of 32 queries per chunk: 32 chunks per head.
    const chunked = encode(32 * 1024);
    const scale = tf.max(tf.abs(whole.out)).dataSync()[0];
    expect(tf.max(tf.abs(chunked.out.sub(whole.out))).dataSync()[0]).toBeLessThanOrEqual(1e-6 * scale);
    // Unchunked, a head's scores and probabilities (8 MiB) dominate the pass; in chunks they are 1/32 of that.
    expect(whole.peak).toBeGreaterThan(2 * 1024 * 1024 * 4);
    expect(chunked.peak).toBeLessThan(whole.peak / 2);
    tf.dispose([whole.out, chunked.out, image]);
  } finally {
    await loadSimdKernels({ build: 'relaxed' });
  }
});

test('encoder passes leave tensors and backend data flat once the weights are packed', () => {
  sam.encodeImage(input).dispose();
  const tensors = tf.memory().numTensors;
  const data = tf.backend().numDataIds();
  for (let i = 0; i < 5; i++) sam.encodeImage(input).dispose();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(data);
});
