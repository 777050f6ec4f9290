import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { layerNorm } from '../../src/sam/modeling/ops';
import { buildUpscaleLowRankWeights, upscaleBase, upscaleLowRank } from '../../src/sam/modeling/upscale-low-rank';
import { layerNormWithTranspose } from '../../src/tfjs-ops/layer-norm';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('upscaleLowRank', () => {
  it('equals the product of the layer-normed keys, for any depth and sizes', () => {
    for (const [hw, d, ht, out, depth] of [
      [300, 32, 12, 24, 2],
      [77, 20, 6, 10, 3],
      [64, 16, 8, 16, 1],
    ]) {
      let seed = hw * 7 + depth;
      const rnd = (shape: number[], mean = 0, std = 1) => tf.randomNormal(shape, mean, std, 'float32', seed++);
      tf.tidy(() => {
        const keys0 = rnd([hw, d], 0.5, 2) as tf.Tensor2D;
        const w = rnd([d, out], 0, 0.2) as tf.Tensor2D;
        const b = rnd([out]) as tf.Tensor1D;
        const norms = Array.from({ length: depth }, () => ({
          gamma: rnd([d], 1, 0.3) as tf.Tensor1D,
          beta: rnd([d], 0, 0.3) as tf.Tensor1D,
          outBias: rnd([d]) as tf.Tensor1D,
        }));
        const weights = buildUpscaleLowRankWeights(w, b, norms);
        // The transformer's image side: keys_{l+1} = LN(keys_l + P V + bo).
        let keys = keys0;
        const terms = norms.map((n) => {
          const probs = tf.softmax(rnd([hw, ht], 0, 2)) as tf.Tensor2D;
          const valuesOut = rnd([ht, d]) as tf.Tensor2D;
          const parts = layerNormWithTranspose(
            keys.add(tf.matMul(probs, valuesOut)).add(n.outBias) as tf.Tensor2D,
            n.gamma,
            n.beta,
            1e-5,
            false,
          )!;
          const plain = layerNorm(keys.add(tf.matMul(probs, valuesOut)).add(n.outBias), n.gamma, n.beta, 1e-5, true);
          expect(tf.max(parts.y.sub(plain).abs()).dataSync()[0]).toBeLessThan(1e-4);
          keys = parts.y;
          return { probs, valuesOut, stats: parts.stats };
        });
        const expected = tf.matMul(keys, w).add(b);
        const ours = upscaleLowRank(upscaleBase(keys0, weights), terms, weights)!;
        const scale = tf.max(expected.abs()).dataSync()[0];
        expect(tf.max(ours.sub(expected).abs()).dataSync()[0]).toBeLessThan(1e-5 * scale + 1e-6);
      });
    }
  });
});
