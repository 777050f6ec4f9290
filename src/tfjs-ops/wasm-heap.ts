/**
 * What the project's own wasm kernels need of tfjs-wasm's backend object: the two public methods
 * its built-in kernels use to read inputs and write outputs in place on the wasm heap.
 *
 * `makeOutput` may grow the heap, which detaches every view taken before it: take views after
 * the last output is made (or fresh ones after each).
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** A tensor's address on the wasm heap (the pointer argument of the SIMD kernels). */
export function heapAddress(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/**
 * Registers a kernel for the wasm backend the first time the returned function is called (kernel
 * registration is global to tfjs and must happen once).
 */
export function lazyWasmKernel(kernelName: string, kernelFunc: tf.KernelFunc): () => void {
  let registered = false;
  return () => {
    if (registered) return;
    registered = true;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  };
}
