import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { disposePacked, packedMatMul, packedMatMulPreferred, packMatrix } from '../../src/tfjs-ops/packed-matmul';
import { loadSimdKernels } from '../../src/tfjs-ops/simd/simd-module';

beforeAll(async () => {
  await initBackend('wasm');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

// [M, K, N]: partial 4-row and 8-column tiles, M past one 128-row block, K split into blocks
// (K > 320), K = 1, and a single element.
const SHAPES = [
  [7, 300, 13],
  [257, 700, 20],
  [130, 64, 100],
  [4, 8, 8],
  [9, 1, 3],
  [1, 1, 1],
];

describe.each(['relaxed', 'plain'] as const)('packed matMul, %s build', (build) => {
  beforeAll(async () => {
    await loadSimdKernels({ build });
  });
  afterAll(async () => {
    await loadSimdKernels({ build: 'relaxed' });
  });

  it('equals tf.matMul with and without bias, B given as is or transposed', () => {
    for (const [m, k, n] of SHAPES) {
      tf.tidy(() => {
        const a = tf.randomNormal([m, k], 0, 1, 'float32', m) as tf.Tensor2D;
        const b = tf.randomNormal([k, n], 0, 1, 'float32', n) as tf.Tensor2D;
        const bias = tf.randomNormal([n], 0, 1, 'float32', k) as tf.Tensor1D;
        const ref = tf.matMul(a, b);
        const tol = 1e-5 * Math.sqrt(k) * 4;
        const plain = packMatrix(b)!;
        const withBias = packMatrix(b, { bias })!;
        const fromT = packMatrix(b.transpose() as tf.Tensor2D, { transposed: true })!;
        expect([plain.k, plain.n]).toEqual([k, n]);
        expect(maxAbsDiff(packedMatMul(a, plain)!, ref)).toBeLessThan(tol);
        expect(maxAbsDiff(packedMatMul(a, withBias)!, ref.add(bias))).toBeLessThan(tol);
        expect(maxAbsDiff(packedMatMul(a, fromT)!, ref)).toBeLessThan(tol);
        [plain, withBias, fromT].forEach(disposePacked);
      });
    }
  });

  it('reads a row-sliced operand where it lies, and leaves no backend data behind', () => {
    const a = tf.randomNormal([40, 50], 0, 1, 'float32', 3) as tf.Tensor2D;
    const b = tf.randomNormal([50, 24], 0, 1, 'float32', 4) as tf.Tensor2D;
    const packed = packMatrix(b)!;
    const slice = a.slice([12, 0], [9, 50]) as tf.Tensor2D;
    const first = packedMatMul(slice, packed)!;
    const before = tf.backend().numDataIds();
    for (let i = 0; i < 20; i++) packedMatMul(slice, packed)!.dispose();
    expect(tf.backend().numDataIds()).toBe(before);
    expect(maxAbsDiff(first, tf.matMul(slice, b))).toBeLessThan(1e-4);
    tf.dispose([a, b, slice, first]);
    disposePacked(packed);
  });
});

describe('packed matMul', () => {
  it('is the preferred path with the relaxed build loaded (as initBackend does on this Node)', () => {
    expect(packedMatMulPreferred()).toBe(true);
  });

  it('rejects an operand that does not fit, naming both shapes', () => {
    const b = tf.zeros([6, 5]) as tf.Tensor2D;
    const packed = packMatrix(b)!;
    expect(() => packedMatMul(tf.zeros([3, 7]) as tf.Tensor2D, packed)).toThrow(/\[3,7\].*\[6, 5\]/);
    expect(() => packMatrix(b, { bias: tf.zeros([4]) as tf.Tensor1D })).toThrow(/bias \[4\]/);
    disposePacked(packed);
    b.dispose();
  });
});
