import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { relPosAttention } from '../../src/tfjs-ops/attention';

beforeAll(async () => {
  await initBackend('wasm');
});

/** The tf-op form: per window and head, softmax(scale q k^T + relH + relW) v, heads side by side. */
function reference(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, relH: tf.Tensor | null, relW: tf.Tensor | null, b: number, heads: number, kh: number, kw: number, scale: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = kh * kw;
    const c = q.shape[1];
    const dh = c / heads;
    const split = (t: tf.Tensor2D) => t.reshape([b, n, heads, dh]).transpose([0, 2, 1, 3]).reshape([b * heads, n, dh]) as tf.Tensor3D;
    let scores = tf.matMul(split(q), split(k), false, true).mul(scale);
    if (relH && relW) {
      scores = scores
        .reshape([b * heads, n, kh, kw])
        .add(relH.reshape([b * heads, n, kh, 1]))
        .add(relW.reshape([b * heads, n, 1, kw]))
        .reshape([b * heads, n, n]);
    }
    const out = tf.matMul(tf.softmax(scores), split(v));
    return out.reshape([b, heads, n, dh]).transpose([0, 2, 1, 3]).reshape([b * n, c]) as tf.Tensor2D;
  });
}

describe('relPosAttention', () => {
  // [windows, heads, kh, kw, channels]: query blocks of 32 with a remainder (35, 70 tokens), a
  // head width that is not a multiple of 8 (12), and a 1-token window.
  const CASES = [
    [3, 2, 5, 7, 24],
    [1, 3, 7, 10, 36],
    [2, 1, 1, 1, 8],
    [1, 4, 16, 16, 64],
  ];

  it.each(CASES)('equals the tf-op form with relative positions: %i windows, %i heads, %ix%i tokens, C %i', (b, heads, kh, kw, c) => {
    tf.tidy(() => {
      const n = kh * kw;
      const q = tf.randomNormal([b * n, c], 0, 1, 'float32', 1) as tf.Tensor2D;
      const k = tf.randomNormal([b * n, c], 0, 1, 'float32', 2) as tf.Tensor2D;
      const v = tf.randomNormal([b * n, c], 0, 1, 'float32', 3) as tf.Tensor2D;
      const relH = tf.randomNormal([b * heads, n, kh], 0, 1, 'float32', 4);
      const relW = tf.randomNormal([b * heads, n, kw], 0, 1, 'float32', 5);
      const scale = 1 / Math.sqrt(c / heads);
      const shape = { batches: b, heads, kh, kw, scale };
      const ours = relPosAttention(q, k, v, relH, relW, shape)!;
      expect(ours.shape).toEqual([b * n, c]);
      expect(tf.max(tf.abs(ours.sub(reference(q, k, v, relH, relW, b, heads, kh, kw, scale)))).dataSync()[0]).toBeLessThan(2e-5);
      const plain = relPosAttention(q, k, v, null, null, shape)!;
      expect(tf.max(tf.abs(plain.sub(reference(q, k, v, null, null, b, heads, kh, kw, scale)))).dataSync()[0]).toBeLessThan(2e-5);
    });
  });

  it('leaves its inputs untouched and no tensors or backend data behind', () => {
    const q = tf.randomNormal([40, 16], 0, 1, 'float32', 6) as tf.Tensor2D;
    const copy = q.clone();
    const shape = { batches: 1, heads: 2, kh: 5, kw: 8, scale: 0.35 };
    relPosAttention(q, q, q, null, null, shape)!.dispose();
    const tensors = tf.memory().numTensors;
    const data = tf.backend().numDataIds();
    for (let i = 0; i < 10; i++) relPosAttention(q, q, q, null, null, shape)!.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(data);
    expect(tf.max(tf.abs(q.sub(copy))).dataSync()[0]).toBe(0);
    tf.dispose([q, copy]);
  });

  it('rejects operands that do not fit the windows, naming the shapes', () => {
    tf.tidy(() => {
      const q = tf.zeros([10, 8]) as tf.Tensor2D;
      expect(() => relPosAttention(q, q, q, null, null, { batches: 1, heads: 2, kh: 3, kw: 3, scale: 1 })).toThrow(/q \[10,8\].*1 windows of 3x3 tokens/);
      expect(() => relPosAttention(q, q, q, tf.zeros([2, 10, 4]), tf.zeros([2, 10, 2]), { batches: 1, heads: 2, kh: 5, kw: 2, scale: 1 })).toThrow(/relH \[2,10,4\]/);
    });
  });
});
