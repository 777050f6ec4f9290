import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { disposePacked } from '../../src/tfjs-ops/packed-matmul';
import { packConvFilter, packedConv2dSame } from '../../src/tfjs-ops/packed-conv2d';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('packedConv2dSame', () => {
  // [H, W, Cin, kh, kw, Cout]: more pixels than one 128-row block (13 x 11), an even kernel
  // (TensorFlow puts the odd padding pixel at the bottom/right), 1x1, a kernel larger than the
  // image, and channel counts off the 4- and 8-lane widths.
  const CASES = [
    [13, 11, 5, 3, 3, 7],
    [6, 9, 8, 2, 2, 16],
    [4, 4, 3, 1, 1, 9],
    [3, 4, 6, 5, 5, 3],
  ];

  it.each(CASES)('equals tf.conv2d with same padding: %ix%i x %i, %ix%i filter, %i out', (h, w, cin, kh, kw, cout) => {
    tf.tidy(() => {
      const x = tf.randomNormal([h, w, cin], 0, 1, 'float32', h) as tf.Tensor3D;
      const filter = tf.randomNormal([kh, kw, cin, cout], 0, 1, 'float32', kh) as tf.Tensor4D;
      const bias = tf.randomNormal([cout], 0, 1, 'float32', cout) as tf.Tensor1D;
      const ref = tf.conv2d(x, filter, 1, 'same');
      const tol = 1e-5 * Math.sqrt(kh * kw * cin) * 4;
      const packed = packConvFilter(filter)!;
      const withBias = packConvFilter(filter, bias)!;
      expect(tf.max(tf.abs(packedConv2dSame(x, packed)!.sub(ref))).dataSync()[0]).toBeLessThan(tol);
      expect(tf.max(tf.abs(packedConv2dSame(x, withBias)!.sub(ref.add(bias)))).dataSync()[0]).toBeLessThan(tol);
      disposePacked(packed);
      disposePacked(withBias);
    });
  });

  it('rejects an input whose channels differ from the filter, and leaves no backend data behind', () => {
    const filter = tf.ones([3, 3, 4, 2]) as tf.Tensor4D;
    const packed = packConvFilter(filter)!;
    const x = tf.ones([5, 5, 4]) as tf.Tensor3D;
    packedConv2dSame(x, packed)!.dispose();
    const data = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) packedConv2dSame(x, packed)!.dispose();
    expect(tf.backend().numDataIds()).toBe(data);
    const bad = tf.ones([5, 5, 3]) as tf.Tensor3D;
    expect(() => packedConv2dSame(bad, packed)).toThrow(/x \[5,5,3\] has 3 channels, the filter 4/);
    disposePacked(packed);
    tf.dispose([filter, x, bad]);
  });
});
