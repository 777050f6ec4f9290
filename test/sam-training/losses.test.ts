import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { diceLoss, maskIous, maskLoss, sigmoidFocalLoss } from '../../src/sam-training/losses';

beforeAll(async () => {
  await initBackend('wasm');
});

// Logits [0, 2, -1, 3] against target [1, 0, 0, 1], worked by hand:
//   p = sigmoid(x) = [0.5, 0.880797, 0.268941, 0.952574]
//   focal_i = alpha_t (1 - p_t)^2 CE_i with alpha_t = 0.25 on positives, 0.75 on negatives:
//     0.25 * 0.25 * 0.693147 = 0.0433217;  0.75 * 0.775803 * 2.126928 = 1.2375560
//     0.75 * 0.072329 * 0.313262 = 0.0169933;  0.25 * 0.0022492 * 0.048587 = 0.0000273
//   mean = 0.3244753
//   dice = 1 - (2 * (0.5 + 0.952574) + 1) / (2.602312 + 2 + 1) = 0.3029400
const logits = () => tf.tensor3d([0, 2, -1, 3], [1, 2, 2]);
const target = () => tf.tensor2d([1, 0, 0, 1], [2, 2]);

describe('SAM training losses', () => {
  it('focal loss matches the hand-computed value', () => {
    const v = tf.tidy(() => sigmoidFocalLoss(logits(), target()).arraySync());
    expect(v).toHaveLength(1);
    expect(v[0]).toBeCloseTo(0.3244753, 5);
  });

  it('dice loss matches the hand-computed value', () => {
    const v = tf.tidy(() => diceLoss(logits(), target()).arraySync());
    expect(v[0]).toBeCloseTo(0.30294, 5);
  });

  it('mask loss is 20 focal + 1 dice, one value per mask, lower for the better mask', () => {
    const v = tf.tidy(() => {
      const good = tf.tensor3d([8, -8, -8, 8], [1, 2, 2]);
      return maskLoss(tf.concat([logits(), good]), target()).arraySync();
    });
    expect(v).toHaveLength(2);
    expect(v[0]).toBeCloseTo(20 * 0.3244753 + 0.30294, 4);
    expect(v[1]).toBeLessThan(0.01);
  });

  it('focal loss stays finite for extreme logits', () => {
    const v = tf.tidy(() => sigmoidFocalLoss(tf.tensor3d([200, -200, -200, 200], [1, 2, 2]), target()).arraySync());
    expect(Number.isFinite(v[0])).toBe(true);
    expect(v[0]).toBeLessThan(1e-6);
  });

  it('gradients of the mask loss are finite and push logits toward the target', () => {
    const g = tf.tidy(
      () =>
        tf
          .grad((x: tf.Tensor) => tf.sum(maskLoss(x as tf.Tensor3D, target())))(logits())
          .arraySync() as number[][][],
    );
    const flat = g.flat(2);
    expect(flat.every(Number.isFinite)).toBe(true);
    // Positives ([0], [3]) want larger logits (negative gradient), negatives smaller.
    expect(flat[0]).toBeLessThan(0);
    expect(flat[1]).toBeGreaterThan(0);
    expect(flat[2]).toBeGreaterThan(0);
    expect(flat[3]).toBeLessThan(0);
  });

  it('maskIous thresholds logits at 0', () => {
    const ious = maskIous(Float32Array.from([1, 1, -1, -1, 1, -1, -1, 1]), 2, Uint8Array.from([1, 0, 0, 1]));
    expect(ious[0]).toBeCloseTo(1 / 3, 6);
    expect(ious[1]).toBeCloseTo(1, 6);
  });
});
