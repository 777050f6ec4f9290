import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { SamConfig } from '../../src/sam/config';
import { smallSamVariant } from './small-sam';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
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
  const viaKernels = sam.encodeImage(input);
  await loadSimdKernels({ build: 'plain' });
  expect(packedMatMulPreferred()).toBe(false);
  const viaOps = sam.encodeImage(input);
  await loadSimdKernels({ build: 'relaxed' });
  expect(viaKernels.shape).toEqual([12, 12, 16]);
  const scale = tf.max(tf.abs(viaOps)).dataSync()[0];
  expect(tf.max(tf.abs(viaKernels.sub(viaOps))).dataSync()[0]).toBeLessThan(1e-4 * scale);
  tf.dispose([viaKernels, viaOps]);
});

test('encoder passes leave tensors and backend data flat once the weights are packed', () => {
  sam.encodeImage(input).dispose();
  const tensors = tf.memory().numTensors;
  const data = tf.backend().numDataIds();
  for (let i = 0; i < 5; i++) sam.encodeImage(input).dispose();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(data);
});
