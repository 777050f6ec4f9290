import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { layerNorm } from '../../src/sam/modeling/ops';
import { layerNormKernel } from '../../src/tfjs-ops/layer-norm';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('layerNormKernel', () => {
  it.each([[[7, 5]], [[3, 4, 16]], [[4096, 256]]])(
    'equals the tf-op layer norm for shape %j and leaks nothing',
    (shape) => {
      const c = shape[shape.length - 1];
      const x = tf.randomNormal(shape, 3, 2, 'float32', 1);
      const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2) as tf.Tensor1D;
      const beta = tf.randomNormal([c], 0, 0.3, 'float32', 3) as tf.Tensor1D;
      const ref = layerNorm(x, gamma, beta, 1e-6, true);
      const before = tf.memory().numTensors;
      const ours = layerNormKernel(x, gamma, beta, 1e-6, false)!;
      expect(ours).not.toBeNull();
      expect(ours.shape).toEqual(shape);
      const diff = tf.tidy(() => ours.sub(ref).abs().max().dataSync()[0]);
      expect(diff).toBeLessThan(2e-5);
      ours.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, gamma, beta, ref]);
    },
  );

  it('declines when gradients are needed, and rejects mismatched gamma', () => {
    const x = tf.ones([2, 3]);
    const g = tf.ones([3]) as tf.Tensor1D;
    expect(layerNormKernel(x, g, g, 1e-5, true)).toBeNull();
    expect(() => layerNormKernel(x, tf.ones([4]) as tf.Tensor1D, g, 1e-5, false)).toThrow(/last axis 3/);
  });
});
