import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { conv2d, ConvPadding, resolvePadding } from '../../src/tfjs-ops/conv2d';
import { Rng } from '../../src/utils/rng';

function randn(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** Forward value and gradients of sum(conv(x, w) * r) for a fixed random r. */
function run(
  conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  xs: Float32Array,
  xShape: [number, number, number, number],
  ws: Float32Array,
  wShape: [number, number, number, number],
  rs: Float32Array,
): Grads {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, xShape);
    const w = tf.tensor4d(ws, wShape);
    const y = conv(x, w);
    const r = tf.tensor(rs, y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), r)));
    const [dx, dw] = g([x, w]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: Array<{
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  cOut: number;
  pad: ConvPadding;
}> = [
  { name: '1x1 same', x: [2, 5, 6, 4], k: [1, 1], cOut: 3, pad: 'same' },
  { name: '3x3 same', x: [2, 7, 6, 3], k: [3, 3], cOut: 5, pad: 'same' },
  { name: '3x3 valid', x: [1, 6, 7, 2], k: [3, 3], cOut: 4, pad: 'valid' },
  { name: '2x2 same (asymmetric pad)', x: [2, 5, 5, 3], k: [2, 2], cOut: 2, pad: 'same' },
  {
    name: '3x5 explicit',
    x: [1, 6, 8, 2],
    k: [3, 5],
    cOut: 3,
    pad: [
      [1, 0],
      [2, 3],
    ],
  },
  { name: '5x5 same', x: [1, 9, 9, 2], k: [5, 5], cOut: 2, pad: 'same' },
];

describe('conv2d with forward-op gradients', () => {
  afterAll(async () => {
    await initBackend('wasm');
  });

  it.each(cases)('$name matches tf.conv2d value and cpu gradients, trains on wasm', async ({ x, k, cOut, pad }) => {
    const rng = new Rng(7);
    const wShape: [number, number, number, number] = [k[0], k[1], x[3], cOut];
    const xs = randn(rng, x[0] * x[1] * x[2] * x[3]);
    const ws = randn(rng, wShape[0] * wShape[1] * wShape[2] * wShape[3]);
    const p = resolvePadding(pad, k[0], k[1]);
    const outH = x[1] + p[0][0] + p[0][1] - k[0] + 1;
    const outW = x[2] + p[1][0] + p[1][1] - k[1] + 1;
    const rs = randn(rng, x[0] * outH * outW * cOut);
    const tfPad =
      pad === 'same' || pad === 'valid'
        ? pad
        : ([[0, 0], p[0], p[1], [0, 0]] as [[0, 0], [number, number], [number, number], [0, 0]]);

    await initBackend('cpu');
    const ref = run((a, b) => tf.conv2d(a, b, 1, tfPad), xs, x, ws, wShape, rs);
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run((a, b) => conv2d(a, b, pad), xs, x, ws, wShape, rs);
    expect(tf.memory().numTensors).toBe(before);

    expect(maxAbsDiff(got.y, ref.y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.dx, ref.dx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.dw, ref.dw)).toBeLessThan(1e-4);
  });

  it('gradient matches central finite differences on wasm', async () => {
    await initBackend('wasm');
    const rng = new Rng(3);
    const xShape: [number, number, number, number] = [1, 4, 4, 2];
    const wShape: [number, number, number, number] = [3, 3, 2, 2];
    const xs = randn(rng, 32);
    const ws = randn(rng, 36);
    const rs = randn(rng, 32);
    const loss = (xa: Float32Array, wa: Float32Array): number =>
      tf.tidy(
        () =>
          tf
            .sum(tf.mul(conv2d(tf.tensor4d(xa, xShape), tf.tensor4d(wa, wShape)), tf.tensor(rs, [1, 4, 4, 2])))
            .dataSync()[0],
      );
    const got = run((a, b) => conv2d(a, b, 'same'), xs, xShape, ws, wShape, rs);
    const eps = 1e-2;
    for (const idx of [0, 5, 17, 35]) {
      const wp = ws.slice();
      const wm = ws.slice();
      wp[idx] += eps;
      wm[idx] -= eps;
      const fd = (loss(xs, wp) - loss(xs, wm)) / (2 * eps);
      expect(Math.abs(fd - got.dw[idx])).toBeLessThan(2e-3);
    }
    for (const idx of [0, 9, 31]) {
      const xp = xs.slice();
      const xm = xs.slice();
      xp[idx] += eps;
      xm[idx] -= eps;
      const fd = (loss(xp, ws) - loss(xm, ws)) / (2 * eps);
      expect(Math.abs(fd - got.dx[idx])).toBeLessThan(2e-3);
    }
  });

  it('rejects bad shapes and paddings with clear errors', async () => {
    await initBackend('wasm');
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 1]) as tf.Tensor4D;
    expect(() => conv2d(x, w)).toThrow(/3 channels/);
    expect(() =>
      resolvePadding(
        [
          [3, 0],
          [0, 0],
        ],
        3,
        3,
      ),
    ).toThrow(/exceeds/);
    expect(() =>
      resolvePadding(
        [
          [-1, 0],
          [0, 0],
        ],
        3,
        3,
      ),
    ).toThrow(/non-negative/);
    tf.dispose([x, w]);
  });
});
