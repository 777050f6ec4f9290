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
  disposeData(dataId: object): boolean;
}

/** A tensor's address on the wasm heap (the pointer argument of the SIMD kernels). */
export function heapAddress(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/**
 * Runs `use` with the address of a float32 scratch buffer of `floats` on the heap, freed after.
 * Make the kernel's outputs before calling: the buffer may grow the heap.
 */
export function withScratch(backend: WasmHeapBackend, floats: number, use: (address: number) => void): void {
  const scratch = backend.makeOutput([floats], 'float32');
  try {
    use(heapAddress(backend, scratch));
  } finally {
    backend.disposeData(scratch.dataId);
  }
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
