import * as tf from '@tensorflow/tfjs';

/**
 * Run `fn` in a tf.tidy and return its (non-tensor) result; every tensor it made is freed.
 * Returning such a result from tf.tidy itself would make tidy walk it element by element looking
 * for tensors: for a 49k-element typed array that cost ~12 ms per call.
 */
export function tidyValue<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}
