import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { unstack0 } from '../../src/tfjs-ops/unstack';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('unstack0', () => {
  it.each([
    ['float32 [5, 3, 4]', [5, 3, 4], 'float32'],
    ['int32 [7, 2]', [7, 2], 'int32'],
    ['float32 [3]', [3], 'float32'],
    ['bool [4, 2, 2]', [4, 2, 2], 'bool'],
  ] as const)('equals tf.unstack for %s and leaks nothing', (_name, shape, dtype) => {
    const size = shape.reduce((a, d) => a * d, 1);
    const values = Array.from({ length: size }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : (i * 7) % 11));
    const x = tf.tensor(values, [...shape], dtype);
    const before = tf.memory().numTensors;
    const ours = unstack0(x);
    const ref = tf.unstack(x);
    expect(ours.length).toBe(shape[0]);
    ours.forEach((t, i) => {
      expect(t.shape).toEqual(ref[i].shape);
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.dataSync())).toEqual(Array.from(ref[i].dataSync()));
    });
    tf.dispose([...ours, ...ref]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('stays correct when its outputs make the wasm heap grow', () => {
    // 64 MiB of outputs: the heap grows while pieces are written, detaching earlier views.
    const x = tf.randomUniform([16, 1024, 1024], -1, 1, 'float32', 7);
    const ours = unstack0(x);
    const sums = tf.stack(ours.map((t) => t.sum())).dataSync();
    const ref = x.sum([1, 2]).dataSync();
    for (let i = 0; i < 16; i++) expect(sums[i]).toBeCloseTo(ref[i], 2);
    tf.dispose([...ours, x]);
  });
});
