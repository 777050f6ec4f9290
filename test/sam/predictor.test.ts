import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { SamConfig } from '../../src/sam/config';
import { smallSamVariant } from './small-sam';
import { encodeImage } from '../../src/sam/image-encoding';
import { SamPredictor, disposePrediction } from '../../src/sam/predictor';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import type { RgbImage } from '../../src/data/types';
import { Rng } from '../../src/utils/rng';

/** A geometry no fixture has: 80-px input, 10x10 grid, window 4 (padded to 12), 3 blocks. */
const odd: SamConfig = smallSamVariant('odd', {
  imgSize: 80,
  embedDim: 24,
  depth: 3,
  numHeads: 3,
  windowSize: 4,
  globalAttnIndexes: [2],
});

function randomImage(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { width, height, data };
}

let sam: SamModel;
beforeAll(async () => {
  await initBackend('wasm');
  sam = SamModel.fromWeights(odd, randomSamWeights(odd, 3), { weightsId: 'odd-3' });
});
afterAll(() => sam.dispose());

test('predict returns masks at the original size and the reference output shapes', async () => {
  const predictor = new SamPredictor(sam);
  await predictor.setImage(randomImage(70, 45, 1));
  const multi = predictor.predict({ pointCoords: [[10, 12]], pointLabels: [1] });
  expect(multi.masks!.shape).toEqual([3, 45, 70]);
  expect(multi.masks!.dtype).toBe('bool');
  expect(multi.iouPredictions.shape).toEqual([3]);
  expect(multi.lowResLogits.shape).toEqual([3, 40, 40]);
  const single = predictor.predict({
    pointCoords: [10, 12, 50, 30],
    pointLabels: [1, 0],
    box: [5, 5, 60, 40],
    multimaskOutput: false,
    returnLogits: true,
  });
  expect(single.masks!.shape).toEqual([1, 45, 70]);
  expect(single.masks!.dtype).toBe('float32');
  // Mask input from the previous prediction.
  const again = predictor.predict({
    pointCoords: [[10, 12]],
    pointLabels: [1],
    maskInput: single.lowResLogits,
    lowResOnly: true,
  });
  expect(again.masks).toBeNull();
  [multi, single, again].forEach(disposePrediction);
  predictor.resetImage();
});

test('a batch over several embeddings equals the same prompts decoded one by one', () => {
  const embA = encodeImage(sam, randomImage(80, 60, 2));
  const embB = encodeImage(sam, randomImage(50, 80, 3));
  const predictor = new SamPredictor(sam);
  const inputs = [
    { embedding: embA, pointCoords: [20, 20], pointLabels: [1] },
    { embedding: embB, pointCoords: [30, 10], pointLabels: [0] },
    { embedding: embA, pointCoords: [20, 20, 70, 50], pointLabels: [1, 0] },
    { embedding: embB, box: [1, 2, 40, 70] },
  ].map((x) => ({ ...x, lowResOnly: true }));
  const batch = predictor.predictBatch(inputs);
  inputs.forEach((inp, i) => {
    const one = predictor.predictBatch([inp])[0];
    const a = one.lowResLogits.dataSync();
    const b = batch[i].lowResLogits.dataSync();
    let maxDiff = 0;
    for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
    expect(maxDiff).toBeLessThan(1e-6);
    disposePrediction(one);
  });
  batch.forEach(disposePrediction);
  embA.dispose();
  embB.dispose();
});

test('bad prompts get clear errors', async () => {
  const predictor = new SamPredictor(sam);
  expect(() => predictor.predict({ pointCoords: [1, 2], pointLabels: [1] })).toThrow(/setImage/);
  await predictor.setImage(randomImage(20, 20, 4));
  expect(() => predictor.predict({ pointCoords: [1, 2, 3, 4], pointLabels: [1] })).toThrow(/2 points but 1 labels/);
  expect(() => predictor.predict({ pointCoords: [1, 2], pointLabels: [3] })).toThrow(/label must be 1, 0 or -1/);
  expect(() => predictor.predict({ box: [1, 2, 3] })).toThrow(/box must be 4/);
  predictor.resetImage();
});

test('200 predictions leave the tensor count flat', async () => {
  const predictor = new SamPredictor(sam);
  await predictor.setImage(randomImage(64, 48, 5));
  const warm = predictor.predict({ pointCoords: [5, 5], pointLabels: [1] });
  disposePrediction(warm);
  const before = tf.memory().numTensors;
  const rng = new Rng(9);
  for (let i = 0; i < 200; i++) {
    const n = 1 + (i % 4);
    const pts: number[] = [];
    for (let j = 0; j < n; j++) pts.push(rng.uniform(0, 64), rng.uniform(0, 48));
    disposePrediction(
      predictor.predict({
        pointCoords: pts,
        pointLabels: pts.filter((_, k) => k % 2 === 0).map(() => rng.int(2)),
        multimaskOutput: i % 2 === 0,
      }),
    );
  }
  expect(tf.memory().numTensors).toBe(before);
  predictor.resetImage();
});

test('a model over variables is differentiable: one training step moves every trained weight', async () => {
  const { samVariables, SAM_FROZEN_BUFFERS } = await import('../../src/sam/weights/variables');
  const vars = samVariables(odd, randomSamWeights(odd, 4), 'grad-test');
  // A second set in the same process is fine (names are prefixed per set).
  samVariables(odd, randomSamWeights(odd, 5)).forEach((v) => v.dispose());
  const before = new Map([...vars].map(([k, v]) => [k, v.dataSync().slice()]));
  const input = tf.randomNormal([80, 80, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
  const target = tf.randomUniform([1, 40, 40], 0, 1, 'float32', 2).greater(0.5).toFloat();
  const maskInput = tf.randomNormal([40, 40], 0, 1, 'float32', 3) as tf.Tensor2D;
  const { ImageEmbedding } = await import('../../src/sam/image-embedding');
  const { grads, value } = tf.variableGrads(() => {
    const m = SamModel.fromVariables(odd, vars);
    const e = new ImageEmbedding('x', m.encodeImage(input), { height: 80, width: 80 }, { height: 80, width: 80 });
    const [o] = m.decode([
      {
        embedding: e,
        prompt: { pointsXY: [10, 10, 50, 60], pointLabels: [1, 0], boxXYXY: [5, 5, 70, 70] },
        maskInput,
        multimaskOutput: false,
      },
    ]);
    return tf.losses.sigmoidCrossEntropy(target, o.lowResLogits).add(o.iouPredictions.square().mean()) as tf.Scalar;
  });
  // Every trained tensor gets a gradient, except the multimask heads and no_mask_embed (a mask input
  // is given), and the token-to-image key biases, whose gradient is exactly zero in the reference
  // too (q.b_k is constant along the softmax axis), so the folded attention drops them.
  const unused =
    /output_hypernetworks_mlps\.[123]\.|no_mask_embed|(token_to_image|final_attn_token_to_image)\.k_proj\.bias/;
  for (const [name] of vars) {
    if (SAM_FROZEN_BUFFERS.has(name) || unused.test(name)) continue;
    if (!grads[`grad-test/${name}`]) throw new Error(`no gradient for ${name}`);
  }
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  expect(before.size).toBe(vars.size);
  tf.dispose([value, input, target, maskInput, ...Object.values(grads)]);
  vars.forEach((v) => v.dispose());
});
