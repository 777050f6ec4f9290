/**
 * tf.unstack along axis 0 in one pass over the input, on the wasm backend.
 *
 * Why: tfjs-wasm's Slice kernel (which Unpack and Split call once per output) starts with
 * `backend.readSync(x)`, a copy of the WHOLE input, so unstacking a tensor into n pieces copies
 * it n times. Measured here: 300 pieces of a [300, 196, 64] tensor took 1.5-1.9 s (5 ms each);
 * in the ViT-B encoder these copies were a third of the encoder's time. This kernel reads the
 * input through a view of the wasm heap and copies each piece once.
 *
 * Not differentiable (no gradient is registered): callers that record gradients use tf.unstack.
 */
import * as tf from '@tensorflow/tfjs';
import { lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';

const KERNEL = 'AlignSamUnstack0';

const register = lazyWasmKernel(KERNEL, ({ inputs, backend }) => {
  const x = (inputs as { x: tf.TensorInfo }).x;
  const b = backend as unknown as WasmHeapBackend;
  const n = x.shape[0];
  const pieceShape = x.shape.slice(1);
  const pieceSize = pieceShape.reduce((a, d) => a * d, 1);
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const out = b.makeOutput(pieceShape, x.dtype);
    // makeOutput may grow the heap, which detaches older views: take fresh ones each time.
    const src = b.typedArrayFromHeap(x);
    b.typedArrayFromHeap(out).set(src.subarray(i * pieceSize, (i + 1) * pieceSize));
    outs.push(out);
  }
  return outs;
});

/** The slices x[0], x[1], ... of a tensor of rank >= 1, as tf.unstack(x) (axis 0). */
export function unstack0(x: tf.Tensor, differentiable = false): tf.Tensor[] {
  if (differentiable || tf.getBackend() !== 'wasm' || x.dtype === 'string' || x.shape[0] <= 1) return tf.unstack(x);
  register();
  return tf.engine().runKernel(KERNEL, { x }) as unknown as tf.Tensor[];
}
