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

export interface HeapUse {
  /** The most bytes of tensor buffers held at once while the computation ran, above those at its start. */
  peakBytes: number;
  /** Bytes still held when it returned, above those at its start. */
  retainedBytes: number;
}

interface AllocatingBackend {
  move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: { get(dataId: object): { shape: number[]; dtype: tf.DataType } | undefined; has(dataId: object): boolean };
}

/**
 * What the backend's memory is asked for from now until `stop()`, counted by buffer (a reshape
 * shares its input's, where tf.memory() counts it again); what XNNPACK allocates for itself is not
 * seen. For measurements: the backend's allocation and release are wrapped until `stop()`.
 */
export function trackHeapUse(): { stop(): HeapUse } {
  const backend = tf.backend() as unknown as AllocatingBackend;
  const { move, disposeData } = backend;
  const bytes = (shape: number[], dtype: tf.DataType) =>
    dtype === 'string' ? 0 : tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
  let live = 0;
  let peakBytes = 0;
  backend.move = function (dataId, values, shape, dtype, refCount) {
    move.call(this, dataId, values, shape, dtype, refCount);
    live += bytes(shape, dtype);
    peakBytes = Math.max(peakBytes, live);
  };
  backend.disposeData = function (dataId, force) {
    const info = this.dataIdMap.get(dataId);
    const released = disposeData.call(this, dataId, force);
    if (info && !this.dataIdMap.has(dataId)) live -= bytes(info.shape, info.dtype);
    return released;
  };
  return {
    stop: () => {
      backend.move = move;
      backend.disposeData = disposeData;
      return { peakBytes, retainedBytes: live };
    },
  };
}

/** What `run` asks of the backend's memory (see trackHeapUse). */
export function measureHeapUse(run: () => void): HeapUse {
  const tracker = trackHeapUse();
  try {
    run();
  } catch (err) {
    tracker.stop();
    throw err;
  }
  return tracker.stop();
}
