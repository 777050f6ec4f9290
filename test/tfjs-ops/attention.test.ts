import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { relPosAttention, type RelPosTables } from '../../src/tfjs-ops/attention';

beforeAll(async () => {
  await initBackend('wasm');
});

/** rel_pos [2S - 1, dh] -> R [S, S, dh] with R[q, k] = rel_pos[q - k + S - 1] (the reference's get_rel_pos). */
function expandTable(table: tf.Tensor2D, size: number): tf.Tensor3D {
  const idx: number[] = [];
  for (let q = 0; q < size; q++) for (let k = 0; k < size; k++) idx.push(q - k + size - 1);
  return tf.gather(table, tf.tensor1d(idx, 'int32')).reshape([size, size, table.shape[1]]) as tf.Tensor3D;
}

/**
 * The tf-op form, written from the reference's formulas: per window and head,
 * softmax(scale q k^T + relH + relW) v, with relH[t, ky] = q_t . Rh[qy, ky] (unscaled q) and relW
 * likewise; heads side by side.
 */
function reference(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  relPos: RelPosTables | null,
  b: number,
  heads: number,
  kh: number,
  kw: number,
  scale: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const n = kh * kw;
    const c = q.shape[1];
    const dh = c / heads;
    const split = (t: tf.Tensor2D) =>
      t
        .reshape([b, n, heads, dh])
        .transpose([0, 2, 1, 3])
        .reshape([b * heads, n, dh]) as tf.Tensor3D;
    let scores = tf.matMul(split(q), split(k), false, true).mul(scale);
    if (relPos) {
      const q5 = split(q).reshape([b * heads, kh, kw, 1, dh]);
      const relH = q5.mul(expandTable(relPos.h, kh).reshape([1, kh, 1, kh, dh])).sum(-1); // [bh, qy, qx, ky]
      const relW = q5.mul(expandTable(relPos.w, kw).reshape([1, 1, kw, kw, dh])).sum(-1); // [bh, qy, qx, kx]
      scores = scores
        .reshape([b * heads, n, kh, kw])
        .add(relH.reshape([b * heads, n, kh, 1]))
        .add(relW.reshape([b * heads, n, 1, kw]))
        .reshape([b * heads, n, n]);
    }
    const out = tf.matMul(tf.softmax(scores), split(v));
    return out
      .reshape([b, heads, n, dh])
      .transpose([0, 2, 1, 3])
      .reshape([b * n, c]) as tf.Tensor2D;
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

  it.each(CASES)(
    'equals the tf-op form with relative positions: %i windows, %i heads, %ix%i tokens, C %i',
    (b, heads, kh, kw, c) => {
      tf.tidy(() => {
        const n = kh * kw;
        const q = tf.randomNormal([b * n, c], 0, 1, 'float32', 1) as tf.Tensor2D;
        const k = tf.randomNormal([b * n, c], 0, 1, 'float32', 2) as tf.Tensor2D;
        const v = tf.randomNormal([b * n, c], 0, 1, 'float32', 3) as tf.Tensor2D;
        const dh = c / heads;
        const relPos = {
          h: tf.randomNormal([2 * kh - 1, dh], 0, 0.5, 'float32', 4) as tf.Tensor2D,
          w: tf.randomNormal([2 * kw - 1, dh], 0, 0.5, 'float32', 5) as tf.Tensor2D,
        };
        const scale = 1 / Math.sqrt(dh);
        const shape = { batches: b, heads, kh, kw, scale };
        const ours = relPosAttention(q, k, v, relPos, shape)!;
        expect(ours.shape).toEqual([b * n, c]);
        expect(
          tf.max(tf.abs(ours.sub(reference(q, k, v, relPos, b, heads, kh, kw, scale)))).dataSync()[0],
        ).toBeLessThan(2e-5);
        const plain = relPosAttention(q, k, v, null, shape)!;
        expect(tf.max(tf.abs(plain.sub(reference(q, k, v, null, b, heads, kh, kw, scale)))).dataSync()[0]).toBeLessThan(
          2e-5,
        );
      });
    },
  );

  it('leaves its inputs untouched and no tensors or backend data behind', () => {
    const q = tf.randomNormal([40, 16], 0, 1, 'float32', 6) as tf.Tensor2D;
    const copy = q.clone();
    const shape = { batches: 1, heads: 2, kh: 5, kw: 8, scale: 0.35 };
    relPosAttention(q, q, q, null, shape)!.dispose();
    const tensors = tf.memory().numTensors;
    const data = tf.backend().numDataIds();
    for (let i = 0; i < 10; i++) relPosAttention(q, q, q, null, shape)!.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(data);
    expect(tf.max(tf.abs(q.sub(copy))).dataSync()[0]).toBe(0);
    tf.dispose([q, copy]);
  });

  it('rejects operands that do not fit the windows, naming the shapes', () => {
    tf.tidy(() => {
      const q = tf.zeros([10, 8]) as tf.Tensor2D;
      expect(() => relPosAttention(q, q, q, null, { batches: 1, heads: 2, kh: 3, kw: 3, scale: 1 })).toThrow(
        /q \[10,8\].*1 windows of 3x3 tokens/,
      );
      const tables = { h: tf.zeros([9, 4]) as tf.Tensor2D, w: tf.zeros([4, 4]) as tf.Tensor2D };
      expect(() => relPosAttention(q, q, q, tables, { batches: 1, heads: 2, kh: 5, kw: 2, scale: 1 })).toThrow(
        /w \[4,4\] should be .*\[3,4\]/,
      );
    });
  });
});
