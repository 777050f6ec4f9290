import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { matMul } from '../../src/tfjs-ops/matmul';
import { Rng } from '../../src/utils/rng';

describe('matMul with explicit-transpose gradients', () => {
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('matches tf.matMul values and the cpu backend gradients', async () => {
    const rng = new Rng(4);
    const a = Float32Array.from({ length: 5 * 7 }, () => rng.normal());
    const b = Float32Array.from({ length: 7 * 3 }, () => rng.normal());
    const r = Float32Array.from({ length: 5 * 3 }, () => rng.normal());
    const run = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D): Float32Array[] =>
      tf.tidy(() => {
        const x = tf.tensor2d(a, [5, 7]);
        const y = tf.tensor2d(b, [7, 3]);
        const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(mm(p as tf.Tensor2D, q as tf.Tensor2D), tf.tensor2d(r, [5, 3]))));
        const [dx, dy] = g([x, y]);
        return [mm(x, y).dataSync() as Float32Array, dx.dataSync() as Float32Array, dy.dataSync() as Float32Array];
      });
    await initBackend('cpu');
    const ref = run((x, y) => tf.matMul(x, y));
    await initBackend('wasm');
    const got = run(matMul);
    for (let k = 0; k < 3; k++) {
      expect(got[k].length).toBe(ref[k].length);
      got[k].forEach((v, i) => expect(Math.abs(v - ref[k][i])).toBeLessThan(1e-4));
    }
    expect(() => matMul(tf.zeros([2, 3]), tf.zeros([2, 3]))).toThrow(/inner dimensions/);
  });
});
