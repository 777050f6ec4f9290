/**
 * a [M, K] @ B [K, N] (+ bias) with B packed once into 8-column panels (simd/kernels.c,
 * `pack_b` / `gemm_packed`), for the image encoder's large products with its frozen weights
 * (packed once per model; the neck's convolution packs its filter the same way, packed-conv2d.ts).
 *
 * Why not XNNPACK: tfjs-wasm's XNNPACK runs these products at 7-10 GMAC/s here. The project's
 * module, in its relaxed-SIMD build, runs each 4x8 register tile on fused multiply-adds, which is
 * what V8 needs to keep both FMA pipes busy with 128-bit vectors (15-22 GMAC/s here; the README's
 * Speed section has the measurements). Where only the plain SIMD128 build loads, callers keep
 * XNNPACK, which is then the faster of the two (`packedMatMulPreferred()`).
 *
 * Inference only: each function returns null where the kernels do not apply, and callers use
 * tf.matMul.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, withScratch, type WasmHeapBackend } from './wasm-heap';
import { simdKernels, simdKernelsRelaxed } from './simd/simd-module';

/** B [K, N] packed for `packedMatMul`; owns its tensors. */
export interface PackedMatrix {
  /** [ceil(N / 8) * K * 8]: panels of 8 columns, [K][8] each, zero past N. */
  readonly panels: tf.Tensor1D;
  /** The bias padded with zeros to the panels' width, or null. */
  readonly bias8: tf.Tensor1D | null;
  readonly k: number;
  readonly n: number;
}

const PACK = 'AlignSamPackB';
const GEMM = 'AlignSamGemmPacked';

const registerPack = lazyWasmKernel(PACK, ({ inputs, attrs, backend }) => {
  const { b } = inputs as { b: tf.TensorInfo };
  const { transposed } = attrs as unknown as { transposed: boolean };
  const be = backend as unknown as WasmHeapBackend;
  const [k, n] = transposed ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  const out = be.makeOutput([Math.ceil(n / 8) * 8 * k], 'float32');
  simdKernels()!.pack_b(heapAddress(be, b), k, n, b.shape[1], transposed ? 1 : 0, 1, heapAddress(be, out));
  return out;
});

const registerGemm = lazyWasmKernel(GEMM, ({ inputs, attrs, backend }) => {
  const { a, panels, bias8 } = inputs as { a: tf.TensorInfo; panels: tf.TensorInfo; bias8?: tf.TensorInfo };
  const { n } = attrs as unknown as { n: number };
  const be = backend as unknown as WasmHeapBackend;
  const kernels = simdKernels()!;
  const [m, k] = a.shape;
  const out = be.makeOutput([m, n], 'float32');
  withScratch(be, kernels.packed_gemm_work_floats(), (work) =>
    kernels.gemm_packed(
      heapAddress(be, a),
      k,
      heapAddress(be, panels),
      bias8 ? heapAddress(be, bias8) : 0,
      heapAddress(be, out),
      n,
      m,
      k,
      n,
      work,
    ),
  );
  return out;
});

/** Whether the packed product is the faster path here (the relaxed-SIMD build is loaded). */
export function packedMatMulPreferred(): boolean {
  return simdKernelsRelaxed();
}

/**
 * Pack b [K, N] (or, with `transposed`, b given as its transpose [N, K]) and an optional bias [N];
 * null where the kernels are not loaded. The caller owns the result (`disposePacked`).
 */
export function packMatrix(
  b: tf.Tensor2D,
  options: { transposed?: boolean; bias?: tf.Tensor1D | null } = {},
): PackedMatrix | null {
  if (!simdKernels() || b.dtype !== 'float32') return null;
  const transposed = options.transposed ?? false;
  const [k, n] = transposed ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  const bias = options.bias ?? null;
  if (bias && bias.shape[0] !== n) throw new Error(`packMatrix: bias [${bias.shape}] does not fit b's ${n} columns`);
  if (k === 0 || n === 0) return null;
  registerPack();
  const panels = tf.engine().runKernel(PACK, { b }, { transposed } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  const width = Math.ceil(n / 8) * 8;
  const bias8 = bias
    ? tf.tidy(() => (width > n ? tf.concat([bias, tf.zeros([width - n])]) : bias.clone()) as tf.Tensor1D)
    : null;
  return { panels, bias8, k, n };
}

/** The kernel inputs that carry a packed operand: its panels, and its padded bias if any. */
export function packedInputs(p: PackedMatrix): tf.NamedTensorMap {
  return p.bias8 ? { panels: p.panels, bias8: p.bias8 } : { panels: p.panels };
}

/** Keep a packed operand's tensors alive past the enclosing tf.tidy (returns its tensors). */
export function keepPacked(p: PackedMatrix): tf.Tensor[] {
  return p.bias8 ? [tf.keep(p.panels), tf.keep(p.bias8)] : [tf.keep(p.panels)];
}

export function disposePacked(p: PackedMatrix): void {
  p.panels.dispose();
  p.bias8?.dispose();
}

/** a [M, K] @ B (+ its bias) -> [M, N]; null where the kernels are not loaded. */
export function packedMatMul(a: tf.Tensor2D, b: PackedMatrix): tf.Tensor2D | null {
  if (!simdKernels() || a.dtype !== 'float32') return null;
  if (a.shape[1] !== b.k)
    throw new Error(`packedMatMul: a [${a.shape}] does not fit a packed [${b.k}, ${b.n}] operand`);
  if (a.shape[0] === 0) return null;
  registerGemm();
  return tf
    .engine()
    .runKernel(GEMM, { a, ...packedInputs(b) }, { n: b.n } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
