import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { matMul2d, matMulConstLeft } from '../../src/nn/matmul';
import { Rng } from '../../src/utils/rng';

const randn = (rng: Rng, shape: [number, number]) =>
  tf.tensor2d(
    Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()),
    shape,
  );
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

afterAll(async () => {
  await initBackend('wasm');
});

describe.each(['cpu', 'wasm'] as const)('matMul2d / matMulConstLeft on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  // Each gradient has two equal forms, chosen by shape; together these shapes take every one.
  it.each([
    [5, 7, 3], // both gradients by the direct form
    [2, 50, 40], // dA by the transposed form
    [64, 40, 3], // dB by the transposed form
  ])('equal tf.matMul and tf.grads of it for [%i x %i] x [%i-wide]', (m, k, n) => {
    const rng = new Rng(m * 100 + k);
    const a = randn(rng, [m, k]);
    const b = randn(rng, [k, n]);
    const w = randn(rng, [m, n]); // a fixed weighting makes the loss sensitive to every entry
    const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), w)) as tf.Scalar;
    const ref = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    const ours = tf.grads(loss(matMul2d))([a, b]);
    expect(maxAbsDiff(matMul2d(a, b), tf.matMul(a, b))).toBe(0);
    expect(maxAbsDiff(ours[0], ref[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours[1], ref[1])).toBeLessThan(1e-4);
    const gw = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(matMulConstLeft(a, y), w)))(b);
    expect(maxAbsDiff(matMulConstLeft(a, b), tf.matMul(a, b))).toBe(0);
    expect(maxAbsDiff(gw, ref[1])).toBeLessThan(1e-4);
    tf.dispose([a, b, w, ...ref, ...ours, gw]);
  });

  it('leaves no tensor behind', () => {
    const rng = new Rng(3);
    const a = randn(rng, [4, 6]);
    const b = randn(rng, [6, 5]);
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul2d(x, y)))([a, b]));
    tf.dispose(tf.grad((y: tf.Tensor) => tf.sum(matMulConstLeft(a, y)))(b));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('rejects operands that are not matrices or do not chain', () => {
    const a = tf.zeros([2, 3]);
    const v = tf.zeros([3]);
    expect(() => matMul2d(a, a)).toThrow(/matMul2d: shapes \[2,3\] x \[2,3\] do not chain/);
    expect(() => matMul2d(a, v)).toThrow(/matMul2d: shapes \[2,3\] x \[3\] do not chain/);
    expect(() => matMulConstLeft(a, a)).toThrow(/matMulConstLeft: shapes \[2,3\] x \[2,3\] do not chain/);
    tf.dispose([a, v]);
  });
});
