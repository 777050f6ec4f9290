/**
 * The project's WebAssembly SIMD kernels (kernels.c), instantiated on tfjs-wasm's own memory so
 * that they read and write tensors where the backend keeps them, without copies.
 *
 * `loadSimdKernels()` is awaited by initBackend when the wasm backend is selected (compiling a
 * module is asynchronous in browsers). Until it has run, or where it cannot (no SIMD support, a
 * tfjs-wasm build that does not expose its memory), `simdKernels()` returns null and every caller
 * keeps its tf-op form: the kernels are an optimisation, never a requirement.
 */
import * as tf from '@tensorflow/tfjs';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-wasm';

/** Pointers are byte offsets into tfjs-wasm's heap; 0 stands for "absent". */
export interface SimdKernels {
  /** act: 1 exact GELU, 2 the scaled form z + z*erf(z). y may equal x. */
  gelu(x: number, y: number, n: number, act: number): void;
  layer_norm(
    x: number,
    gamma: number,
    beta: number,
    y: number,
    yT: number,
    stats: number,
    rows: number,
    c: number,
    eps: number,
    act: number,
  ): void;
  rel_pos_softmax(src: number, dst: number, relH: number, relW: number, rows: number, kh: number, kw: number): void;
  softmax_axis0(src: number, dst: number, rows: number, cols: number): void;
  gemm(a: number, b: number, bias: number, c: number, m: number, k: number, n: number): void;
  norm_affine_step(
    z: number,
    g: number,
    stats: number,
    c: number,
    s: number,
    d: number,
    out: number,
    rows: number,
    n: number,
  ): void;
  pack_b(b: number, k: number, n: number, ldb: number, bTransposed: number, scale: number, panels: number): void;
  gemm_packed(
    a: number,
    lda: number,
    panels: number,
    bias8: number,
    c: number,
    ldc: number,
    m: number,
    k: number,
    n: number,
    work: number,
  ): void;
  packed_gemm_work_floats(): number;
  attention(
    q: number,
    k: number,
    v: number,
    ld: number,
    tableH: number,
    tableW: number,
    out: number,
    batches: number,
    heads: number,
    n: number,
    dh: number,
    kh: number,
    kw: number,
    scale: number,
    work: number,
  ): void;
  attention_work_floats(n: number, dh: number, kh: number, kw: number): number;
  conv2d_same(
    x: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    panels: number,
    bias8: number,
    out: number,
    n: number,
    work: number,
  ): void;
  conv_work_floats(k: number): number;
  /** `iterations` rounds of 12 independent multiply-adds in this build's form (benchmarks time it: the peak). */
  madd_peak_probe(iterations: number, c: number): number;
}

export const ACT_NONE = 0;
export const ACT_GELU = 1;
export const ACT_SCALED_GELU = 2;

let loaded: { memory: WebAssembly.Memory; kernels: SimdKernels; relaxed: boolean } | null = null;

function backendMemory(): WebAssembly.Memory | null {
  if (tf.getBackend() !== 'wasm') return null;
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

function moduleBytes(base64: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(base64, 'base64'));
  const text = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Instantiate the kernels on the current wasm backend's memory. Returns whether they are in use.
 * The relaxed-SIMD build (fused multiply-adds in the products) is used where the engine validates
 * it (Chrome 114+, Node 22+; Node 20 after enableRelaxedSimd() in backend.ts), the plain SIMD128
 * build otherwise. ALIGNSAM_SIMD_KERNELS=0 turns the kernels off, ALIGNSAM_RELAXED_SIMD=0 keeps
 * the plain build (both for comparisons). `build: 'plain'` asks for the plain build (tests of both).
 */
export async function loadSimdKernels(options: { build?: 'relaxed' | 'plain' } = {}): Promise<boolean> {
  const memory = backendMemory();
  if (!memory) return false;
  const wantPlain = options.build === 'plain';
  if (loaded?.memory === memory && (options.build === undefined || loaded.relaxed !== wantPlain)) return true;
  const env = typeof process !== 'undefined' ? process.env : undefined;
  if (env?.ALIGNSAM_SIMD_KERNELS === '0') return false;
  const relaxedBytes =
    wantPlain || env?.ALIGNSAM_RELAXED_SIMD === '0' ? null : moduleBytes(KERNELS_RELAXED_WASM_BASE64);
  const relaxed = relaxedBytes !== null && WebAssembly.validate(relaxedBytes);
  const bytes = relaxed ? relaxedBytes : moduleBytes(KERNELS_WASM_BASE64);
  if (!WebAssembly.validate(bytes)) return false; // an engine without wasm SIMD
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  loaded = { memory, kernels: instance.exports as unknown as SimdKernels, relaxed };
  return true;
}

/** The kernels, when loaded on the memory of the backend now in use; null otherwise. */
export function simdKernels(): SimdKernels | null {
  if (!loaded) return null;
  return backendMemory() === loaded.memory ? loaded.kernels : null;
}

/** Whether this engine accepts the relaxed-SIMD build (as it stands now; flags can change it). */
export function relaxedSimdValidates(): boolean {
  return WebAssembly.validate(moduleBytes(KERNELS_RELAXED_WASM_BASE64));
}

/** Whether the loaded kernels are the relaxed-SIMD (fused multiply-add) build. */
export function simdKernelsRelaxed(): boolean {
  return simdKernels() !== null && loaded!.relaxed;
}
