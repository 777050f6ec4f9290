/**
 * Backend selection. The default is the WebAssembly backend (SIMD): it installs everywhere and is
 * ~30x faster than the pure-JS `cpu` backend. The native `tensorflow` backend (libtensorflow, CPU
 * or CUDA) is used when the user installed `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`.
 */
import * as tf from '@tensorflow/tfjs';
import { loadSimdKernels, relaxedSimdValidates } from './tfjs-ops/simd/simd-module';
import { warmUpSimdKernels } from './tfjs-ops/simd/warm-up';

export type BackendName = 'auto' | 'wasm' | 'tensorflow' | 'cpu' | 'webgl';

/** Which native package provided the `tensorflow` backend, if any. */
let nativePackage: string | null = null;

function tryRequireNative(): string | null {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // Loading the package registers the 'tensorflow' backend with tfjs-core as a side effect.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(pkg);
      return pkg;
    } catch {
      // not installed, or its native library is missing: try the next one
    }
  }
  return null;
}

/**
 * Select and initialise a backend. `auto` prefers the native backend when its package is installed
 * and falls back to wasm. Asking for `tensorflow` explicitly without the package is an error.
 */
export async function initBackend(name: BackendName = 'auto'): Promise<string> {
  if (name === 'auto' || name === 'tensorflow') {
    nativePackage = nativePackage ?? tryRequireNative();
    if (nativePackage && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      return tf.getBackend();
    }
    if (name === 'tensorflow') {
      throw new Error(
        "backend 'tensorflow' requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node " +
          'could be loaded; install one with `npm install @tensorflow/tfjs-node-gpu` (GPU) or ' +
          '`npm install @tensorflow/tfjs-node` (CPU)',
      );
    }
    name = 'wasm';
  }
  if (name === 'wasm') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
  if (name === 'wasm') {
    enableRelaxedSimd();
    if (await loadSimdKernels()) warmUpSimdKernels();
  }
  return tf.getBackend();
}

/**
 * Node 20's V8 has WebAssembly relaxed SIMD behind a flag (Node 22 ships it on). The flag only
 * admits the extra opcodes to modules compiled afterwards, here the project's kernels, whose
 * products then run on fused multiply-adds. ALIGNSAM_RELAXED_SIMD=0 leaves the flag alone.
 */
function enableRelaxedSimd(): void {
  // Engines that ship relaxed SIMD need no flag (and newer V8s warn about flags they dropped).
  if (process.env.ALIGNSAM_RELAXED_SIMD === '0' || relaxedSimdValidates()) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('v8') as typeof import('v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** The package that provides the native backend, or null when none is loaded. */
export function nativeBackendPackage(): string | null {
  return nativePackage;
}
