import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { adaptivePoolWeights, AdaptivePool } from '../../src/nn/pooling';

beforeAll(async () => {
  await initBackend('wasm');
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('adaptive pooling', () => {
  it('uses PyTorch bin edges for 64 -> 10', () => {
    const m = adaptivePoolWeights(64, 10);
    // bin 0 = [0, ceil(6.4)) = [0, 7); bin 1 = [floor(6.4), ceil(12.8)) = [6, 13)
    expect(Array.from(m.slice(0, 8)).map((v) => +v.toFixed(6))).toEqual([...Array(7).fill(+(1 / 7).toFixed(6)), 0]);
    expect(m[64 + 5]).toBe(0);
    expect(m[64 + 6]).toBeCloseTo(1 / 7, 6);
    expect(m[64 + 12]).toBeCloseTo(1 / 7, 6);
    for (let i = 0; i < 10; i++) expect(m.slice(i * 64, (i + 1) * 64).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('equals tf.avgPool when the size divides and averages exactly otherwise', () => {
    const pool = new AdaptivePool();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      expect(maxAbsDiff(pool.pool(x, 4, 4), tf.avgPool(x, 2, 2, 'valid'))).toBeLessThan(1e-5);
      const y = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
      const got = pool.pool(y, 2, 2).dataSync();
      const yd = y.arraySync()[0];
      // Output (0, 1): rows [0, 3), cols [2, 5), channel 1.
      let s = 0;
      for (let r = 0; r < 3; r++) for (let c = 2; c < 5; c++) s += yd[r][c][1];
      expect(got[(0 * 2 + 1) * 2 + 1]).toBeCloseTo(s / 9, 5);
    });
    pool.dispose();
  });
});

describe('adaptive pooling gradient', () => {
  it('equals the gradient of tf.avgPool when the size divides', () => {
    const pool = new AdaptivePool();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const w = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 6);
      const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool.pool(t as tf.Tensor4D, 4, 4), w)))(x);
      const ref = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid'), w)))(x);
      expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-5);
    });
    pool.dispose();
  });
});
