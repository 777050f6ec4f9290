import * as tf from '@tensorflow/tfjs';

/** Run `fn` in a tf.tidy and return its (non-tensor) result; every tensor it made is freed. */
export function tidyValue<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}
