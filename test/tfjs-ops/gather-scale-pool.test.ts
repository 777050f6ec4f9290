import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { gatherScalePool } from '../../src/tfjs-ops/gather-scale-pool';
import { projectConstant } from '../../src/tfjs-ops/project';
import { projectGatherScalePool } from '../../src/tfjs-ops/project-gather-scale-pool';
import { Rng } from '../../src/utils/rng';

beforeAll(async () => {
  await initBackend('wasm');
});

const randn = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('gatherScalePool', () => {
  it.each([
    ['shared rows, k = 2', [3, 8, 8, 4], [0, 2, 2, 1, 0], 2],
    ['odd grid cut by valid pooling, k = 4', [2, 9, 10, 3], [1, 1, 0], 4],
    ['identity rows, no pooling', [3, 5, 5, 2], [0, 1, 2], 1],
  ] as Array<[string, [number, number, number, number], number[], number]>)(
    '%s: value and table gradient match composed tf ops on the cpu backend',
    async (_name, shape, index, k) => {
      const rng = new Rng(3);
      const [u, h, w, c] = shape;
      const b = index.length;
      const tableData = randn(rng, u * h * w * c);
      const scaleData = Float32Array.from({ length: b * h * w }, () => rng.random());
      const hp = Math.floor(h / k);
      const wp = Math.floor(w / k);
      const r = randn(rng, b * hp * wp * c);
      const idx = Int32Array.from(index);
      const run = (f: (t: tf.Tensor4D, s: tf.Tensor4D) => tf.Tensor4D): [Float32Array, Float32Array] =>
        tf.tidy(() => {
          const t = tf.tensor4d(tableData, shape);
          const s = tf.tensor4d(scaleData, [b, h, w, 1]);
          const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor4D, s), tf.tensor4d(r, [b, hp, wp, c]))))(
            t,
          );
          return [f(t, s).dataSync() as Float32Array, g.dataSync() as Float32Array];
        });
      await initBackend('cpu');
      const ref = run((t, s) => {
        const rows = tf.gather(t, tf.tensor1d(idx, 'int32'));
        const scaled = tf.mul(rows, s) as tf.Tensor4D;
        return k === 1 ? scaled : (tf.avgPool(scaled, k, k, 'valid') as tf.Tensor4D);
      });
      await initBackend('wasm');
      const before = tf.memory().numTensors;
      const got = run((t, s) => gatherScalePool(t, idx, s, k));
      expect(tf.memory().numTensors).toBe(before);
      expect(maxDiff(got[0], ref[0])).toBeLessThan(1e-5);
      expect(maxDiff(got[1], ref[1])).toBeLessThan(1e-5);
    },
  );

  it('checks its arguments', () => {
    tf.tidy(() => {
      const t = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
      const s = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
      expect(() => gatherScalePool(t, Int32Array.from([2]), s, 1)).toThrow(/outside \[0, 2\)/);
      expect(() => gatherScalePool(t, Int32Array.from([0, 1]), s, 1)).toThrow(/scale must be \[2, 4, 4, 1\]/);
      expect(() => gatherScalePool(t, Int32Array.from([0]), s, 8)).toThrow(/exceeds/);
    });
  });
});

describe('projectConstant', () => {
  it('matches x @ W and its weight gradient', async () => {
    const rng = new Rng(5);
    const xd = randn(rng, 2 * 3 * 4 * 6);
    const wd = randn(rng, 6 * 5);
    const r = randn(rng, 2 * 3 * 4 * 5);
    const run = (f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor): [Float32Array, Float32Array] =>
      tf.tidy(() => {
        const x = tf.tensor(xd, [2, 3, 4, 6]);
        const w = tf.tensor2d(wd, [6, 5]);
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(x, v), tf.tensor(r, [2, 3, 4, 5]))))(w);
        return [f(x, w).dataSync() as Float32Array, g.dataSync() as Float32Array];
      });
    const ref = run((x, w) => tf.reshape(tf.matMul(tf.reshape(x, [24, 6]), w), [2, 3, 4, 5]));
    const got = run(projectConstant);
    expect(maxDiff(got[0], ref[0])).toBeLessThan(1e-5);
    expect(maxDiff(got[1], ref[1])).toBeLessThan(1e-4);
    expect(() => projectConstant(tf.zeros([2, 3]), tf.zeros([4, 1]))).toThrow(/does not fit/);
  });
});

describe('projectGatherScalePool', () => {
  it.each([
    ['three maps shared by five samples, k = 2', 3, [0, 2, 2, 1, 0], 8, 8, 2],
    ['one map, odd grid, k = 4', 1, [0, 0, 0], 9, 10, 4],
    ['identity, no pooling', 2, [0, 1], 5, 5, 1],
  ] as Array<[string, number, number[], number, number, number]>)(
    '%s: value and weight gradient match composed tf ops on the cpu backend',
    async (_name, u, index, h, w, k) => {
      const rng = new Rng(8);
      const c = 6;
      const p = 4;
      const b = index.length;
      const maps = Array.from({ length: u }, () => randn(rng, h * w * c));
      const wd = randn(rng, c * p);
      const sd = Float32Array.from({ length: b * h * w }, () => rng.random());
      const hp = Math.floor(h / k);
      const wp = Math.floor(w / k);
      const r = randn(rng, b * hp * wp * p);
      const idx = Int32Array.from(index);
      const run = (f: (m: tf.Tensor[], wt: tf.Tensor, s: tf.Tensor4D) => tf.Tensor4D): [Float32Array, Float32Array] =>
        tf.tidy(() => {
          const m = maps.map((d) => tf.tensor3d(d, [h, w, c]));
          const s = tf.tensor4d(sd, [b, h, w, 1]);
          const wt = tf.tensor2d(wd, [c, p]);
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(m, v, s), tf.tensor4d(r, [b, hp, wp, p]))))(wt);
          return [f(m, wt, s).dataSync() as Float32Array, g.dataSync() as Float32Array];
        });
      await initBackend('cpu');
      const ref = run((m, wt, s) => {
        const proj = tf.stack(m.map((e) => tf.reshape(tf.matMul(tf.reshape(e, [h * w, c]), wt), [h, w, p])));
        const scaled = tf.mul(tf.gather(proj, tf.tensor1d(idx, 'int32')), s) as tf.Tensor4D;
        return k === 1 ? scaled : (tf.avgPool(scaled, k, k, 'valid') as tf.Tensor4D);
      });
      await initBackend('wasm');
      const got = run((m, wt, s) => projectGatherScalePool(m, wt, idx, s, k));
      expect(maxDiff(got[0], ref[0])).toBeLessThan(1e-4);
      expect(maxDiff(got[1], ref[1])).toBeLessThan(1e-3);
    },
  );
});
