import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { layerNorm } from '../../src/sam/modeling/ops';
import { gemmKernel } from '../../src/tfjs-ops/gemm';
import { geluKernel, scaledGeluKernel } from '../../src/tfjs-ops/gelu';
import { layerNormKernel, layerNormWithTranspose } from '../../src/tfjs-ops/layer-norm';
import { relPosSoftmax, softmaxAxis0 } from '../../src/tfjs-ops/softmax';
import { loadSimdKernels, simdKernels, simdKernelsRelaxed } from '../../src/tfjs-ops/simd/simd-module';

beforeAll(async () => {
  await initBackend('wasm');
});

/** erf in float64 from its Taylor series (|x| < 3) or the continued fraction of erfc (beyond). */
function erf64(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return x < 0 ? -r : r;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

// Both builds of the module: relaxed SIMD (what initBackend loads on this Node) and plain SIMD128.
describe.each(['relaxed', 'plain'] as const)('%s build', (build) => {
  beforeAll(async () => {
    await loadSimdKernels({ build });
    expect(simdKernelsRelaxed()).toBe(build === 'relaxed');
  });

  describe('SIMD kernels on the wasm heap', () => {
    it('are loaded by initBackend on the wasm backend', () => {
      expect(simdKernels()).not.toBeNull();
    });

    it('GELU matches the exact erf GELU to float32 accuracy, odd lengths included', () => {
      for (const n of [1, 7, 4099]) {
        const xs = Float32Array.from({ length: n }, (_, i) => -6 + (12 * i) / Math.max(1, n - 1));
        const x = tf.tensor1d(xs);
        const before = tf.memory().numTensors;
        const g = geluKernel(x)!;
        const s = scaledGeluKernel(x)!;
        expect(tf.memory().numTensors).toBe(before + 2);
        const gv = g.dataSync();
        const sv = s.dataSync();
        for (let i = 0; i < n; i++) {
          const v = xs[i];
          expect(Math.abs(gv[i] - 0.5 * v * (1 + erf64(v / Math.SQRT2)))).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
          expect(Math.abs(sv[i] - (v + v * erf64(v)))).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
        }
        tf.dispose([x, g, s]);
      }
    });

    it('layer norm with GELU, and with a transposed copy, equal the tf-op forms for any row/column counts', () => {
      for (const [rows, c] of [
        [4096, 256],
        [6, 5],
        [9, 12],
        [16384, 64],
      ]) {
        const x = tf.randomNormal([rows, c], 2, 3, 'float32', rows + c) as tf.Tensor2D;
        const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2) as tf.Tensor1D;
        const beta = tf.randomNormal([c], 0, 0.3, 'float32', 3) as tf.Tensor1D;
        const ref = layerNorm(x, gamma, beta, 1e-6, true);
        const refGelu = ref.mul(tf.erf(ref.mul(Math.SQRT1_2)).add(1)).mul(0.5);
        const before = tf.memory().numTensors;
        const withGelu = layerNormKernel(x, gamma, beta, 1e-6, false, 'gelu')!;
        const { y, yT, stats } = layerNormWithTranspose(x, gamma, beta, 1e-6, false)!;
        expect(tf.memory().numTensors).toBe(before + 4);
        const { mean, variance } = tf.moments(x, 1);
        const refStats = tf.stack([mean, variance.add(1e-6).rsqrt()], 1);
        expect(maxAbsDiff(stats, refStats)).toBeLessThan(1e-4);
        tf.dispose([mean, variance, refStats, stats]);
        expect(yT.shape).toEqual([c, rows]);
        expect(maxAbsDiff(y, ref)).toBeLessThan(2e-5);
        expect(maxAbsDiff(yT, ref.transpose())).toBeLessThan(2e-5);
        expect(maxAbsDiff(withGelu, refGelu)).toBeLessThan(2e-5);
        tf.dispose([x, gamma, beta, ref, refGelu, withGelu, y, yT]);
      }
    });

    it('rel-pos softmax equals the broadcast adds plus tf.softmax, without touching its input', () => {
      for (const [rows, kh, kw] of [
        [196, 14, 14],
        [5, 3, 7],
        [64, 64, 64],
      ]) {
        const scores = tf.randomNormal([rows, kh * kw], 0, 4, 'float32', 1) as tf.Tensor2D;
        const relH = tf.randomNormal([rows, kh], 0, 2, 'float32', 2) as tf.Tensor2D;
        const relW = tf.randomNormal([rows, kw], 0, 2, 'float32', 3) as tf.Tensor2D;
        const copy = scores.clone();
        const ref = tf.tidy(() =>
          tf.softmax(
            scores
              .reshape([rows, kh, kw])
              .add(relH.reshape([rows, kh, 1]))
              .add(relW.reshape([rows, 1, kw]))
              .reshape([rows, kh * kw]),
          ),
        );
        const ours = relPosSoftmax(scores, relH, relW)!;
        expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-6);
        expect(maxAbsDiff(scores, copy)).toBe(0);
        tf.dispose([scores, relH, relW, copy, ref, ours]);
      }
    });

    it('softmax down the columns equals tf.softmax of the transpose, large and tiny scores included', () => {
      for (const [rows, cols] of [
        [4096, 56],
        [10, 6],
        [3, 1],
      ]) {
        const x = tf.tidy(() =>
          tf.randomNormal([rows, cols], 0, 30, 'float32', cols).concat(tf.fill([1, cols], -200), 0),
        ) as tf.Tensor2D;
        const ref = tf.tidy(() => tf.softmax(x.transpose()).transpose());
        const ours = softmaxAxis0(x)!;
        expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-6);
        const colSums = tf.tidy(() => ours.sum(0).sub(1).abs().max().dataSync()[0]);
        expect(colSums).toBeLessThan(1e-5);
        tf.dispose([x, ref, ours]);
      }
    });

    it('keep working after the wasm heap grows', () => {
      const x = tf.randomNormal([33, 20]);
      const first = geluKernel(x)!;
      const big = tf.zeros([(64 * 1024 * 1024) / 4 + 17]); // forces the heap to grow past its size
      const second = geluKernel(x)!;
      expect(maxAbsDiff(first, second)).toBe(0);
      tf.dispose([x, first, big, second]);
    });
  });

  describe('multiply-add probe', () => {
    it('runs its 12 chains c + 0.5 a from starts c, 2c, .. 12c, each converging to 2c', () => {
      const probe = simdKernels()!.madd_peak_probe;
      expect(probe(0, 1)).toBe(78); // 1 + 2 + .. + 12
      expect(probe(1, 2)).toBe(12 * 2 + 0.5 * 156); // each chain 2 + 0.5 * 2j
      expect(probe(200, 1.5)).toBe(12 * 3);
    });
  });

  describe('gemm kernel', () => {
    it('equals tf.matMul (with and without bias) across tile remainders and K blocks', () => {
      for (const [m, k, n] of [
        [7, 300, 13],
        [4096, 56, 256],
        [5, 3, 8],
        [1, 1, 1],
        [96 * 2 + 3, 513, 17],
      ]) {
        const a = tf.randomNormal([m, k], 0, 1, 'float32', m) as tf.Tensor2D;
        const b = tf.randomNormal([k, n], 0, 1, 'float32', n) as tf.Tensor2D;
        const bias = tf.randomNormal([n], 0, 1, 'float32', k) as tf.Tensor1D;
        const ref = tf.matMul(a, b);
        const refBias = ref.add(bias);
        const ours = gemmKernel(a, b)!;
        const oursBias = gemmKernel(a, b, bias)!;
        const tol = 1e-5 * Math.sqrt(k) * 4;
        expect(maxAbsDiff(ours, ref)).toBeLessThan(tol);
        expect(maxAbsDiff(oursBias, refBias)).toBeLessThan(tol);
        tf.dispose([a, b, bias, ref, refBias, ours, oursBias]);
      }
    });
  });
});
