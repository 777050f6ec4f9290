/**
 * What a frozen SAM needs of the backend's memory, computed from its config before any weight is
 * uploaded: every weight once, the copies the chosen product keeps of them, and the peak of the
 * activations of one image-encoder pass. On the wasm backend all of it lives in one heap that a
 * wasm32 module cannot grow past 4 GiB; running past it aborts mid-encode ("memory access out of
 * bounds"), so a model that does not fit is refused up front instead.
 *
 * Two forms of the encoder's weights:
 * - 'packed': the linears and the neck's 3x3 filter held only as panels for the project's SIMD
 *   product (tfjs-ops/packed-matmul.ts); each weight once.
 * - 'plain': plain matrices on tf.matMul. On wasm, XNNPACK packs every right operand it meets and
 *   caches the packed copy for as long as the operand lives, so each weight is held twice.
 */
import * as tf from '@tensorflow/tfjs';
import { SamConfig, embeddingGridSize } from './config';
import { samWeightSpecs } from './weights/weight-spec';
import { packedMatMulPreferred } from '../tfjs-ops/packed-matmul';
import { simdKernels } from '../tfjs-ops/simd/simd-module';
import { MAX_SCORE_ELEMENTS } from './modeling/image-encoder';

/** The most a wasm32 heap can hold (emscripten's heap maximum: 4 GiB less one 64 KiB page). */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3 - 65536;

export type EncoderWeightForm = 'packed' | 'plain';

export interface SamMemoryPlan {
  model: string;
  weightForm: EncoderWeightForm;
  /** Every weight once, with the tables derived from them (relative positions, dense positions, the decoder's folded forms). */
  weightBytes: number;
  /** The copies the product keeps beside the weights: XNNPACK's packed ones in the plain form on wasm. */
  weightCopyBytes: number;
  /** Peak activations of one encoder pass at the config's input size. */
  activationBytes: number;
  /** Room for the allocator's headers and fragmentation beside the tensors (ALLOCATOR_SLACK of them). */
  allocatorBytes: number;
  totalBytes: number;
}

const F32 = 4;

/**
 * The heap measured 5-12% above its tensors' peak (ViT-H 3112 MiB for 2964, ViT-B 757 for 676), its
 * growth steps included; what must fit under the limit is the tensors and the allocator's
 * fragmentation, for which the plan keeps this share of the tensors.
 */
export const ALLOCATOR_SLACK = 0.1;

/** The weights that run as the right operand of a product: the encoder's linears and neck, the decoder's. */
function productWeightFloats(config: SamConfig): number {
  let n = 0;
  for (const { name, shape } of samWeightSpecs(config)) {
    const isProduct =
      name.startsWith('image_encoder.') &&
      (/\.(qkv|proj|lin1|lin2)\.(weight|bias)$/.test(name) || /\.neck\.[02]\.weight$/.test(name));
    if (isProduct || name.startsWith('mask_decoder.')) n += shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** Panels round the output columns of each packed product up to 8. */
function packedPaddingFloats(config: SamConfig): number {
  const ie = config.imageEncoder;
  const pad = (n: number) => Math.ceil(n / 8) * 8 - n;
  const c = ie.embedDim;
  const m = Math.floor(c * ie.mlpRatio);
  const perBlock = 3 * pad(c) * (c + 1) + pad(c) * (c + 1) + pad(m) * (c + 1) + pad(c) * (m + 1);
  return ie.depth * perBlock + pad(c) * (ie.patchSize * ie.patchSize * ie.inChans + 1) + pad(ie.outChans) * 10 * c;
}

/** The encoder's expanded relative-position tables ([q, headDim, k] per axis and block). */
function relTableFloats(config: SamConfig): number {
  const ie = config.imageEncoder;
  if (!ie.useRelPos) return 0;
  const grid = embeddingGridSize(config);
  const dh = ie.embedDim / ie.numHeads;
  let n = 0;
  for (let i = 0; i < ie.depth; i++) {
    const side = ie.globalAttnIndexes.includes(i) || ie.windowSize === 0 ? grid : ie.windowSize;
    n += 2 * side * dh * side;
  }
  return n;
}

/** Which build of the project's SIMD kernels is loaded ('none': the tf-op forms throughout). */
export type KernelBuild = 'relaxed' | 'plain' | 'none';

/**
 * Peak activation floats of one encoder pass. A block runs in one tf.tidy, so what it makes stays
 * until it returns: its peak is at its end (all of it), or in its attention (what is made up to
 * then, and the largest chunk of scores), whichever is larger; the largest block (or the neck)
 * sets the pass's peak.
 */
function activationFloats(config: SamConfig, kernels: KernelBuild, onWasm: boolean, maxScoreElements: number): number {
  const ie = config.imageEncoder;
  const g = embeddingGridSize(config);
  const t = g * g;
  const c = ie.embedDim;
  const m = Math.floor(c * ie.mlpRatio);
  const heads = ie.numHeads;
  const dh = c / heads;
  const blockPeak = (global: boolean, side: number, windows: number) => {
    const n = side * side;
    const tq = windows * n; // tokens attended, padding included
    // q, k, v, and (windows) the padding and the partition.
    let attention = (global ? 3 : 5) * tq * c;
    let scores = 0;
    if (kernels === 'relaxed') {
      attention += tq * c; // the attention kernel's output
    } else {
      // Head-major copies of q (twice more for the relative-position products), k and v, scaled q,
      // the per-head items of all three, k transposed, the outputs, their stack and layout; and
      // the relative-position terms (products, stack, layout, items) along both axes.
      attention += 15 * tq * c + 8 * tq * heads * side;
      // XNNPACK's copies of each head's k transposed and v, where it runs those products.
      if (onWasm && (kernels === 'none' || n > 1024)) attention += 2 * tq * c;
      // One chunk of query rows: its scores and probabilities (and, without the softmax kernel, the
      // two relative-position sums before them).
      const rows = Math.max(1, Math.min(side, Math.floor(maxScoreElements / (side * n))));
      scores = (kernels === 'none' ? 4 : 2) * rows * side * n + 2 * rows * side * dh;
    }
    // The block's input and first norm; after the attention, (windows) the reassembly and the
    // cropped tokens, then the projection, residual sum, second norm, MLP and the output. Without
    // the kernels the GELU runs as five tf ops, each output the MLP's width.
    const before = 2 * t * c;
    const mlp = (kernels === 'none' ? 6 : 2) * t * m;
    const after = (global ? 0 : tq * c + t * c) + 3 * t * c + mlp + 2 * t * c;
    return before + attention + Math.max(scores, after);
  };
  let peak = 0;
  for (let i = 0; i < ie.depth; i++) {
    const global = ie.globalAttnIndexes.includes(i) || ie.windowSize === 0;
    const side = global ? g : ie.windowSize;
    peak = Math.max(peak, blockPeak(global, side, global ? 1 : Math.ceil(g / side) ** 2));
  }
  const s = ie.imgSize;
  // The patch embedding: the image's patches gathered, their projection and the positions added.
  const patchEmbed = s * s * ie.inChans + 2 * t * c;
  // The neck: its two convolutions and norms, the 3x3 product's gathered patches, and the block output.
  const neck = t * c + 4 * t * ie.outChans + 128 * 9 * ie.outChans;
  // The input image is held by the caller throughout.
  return Math.max(peak, patchEmbed, neck) + s * s * ie.inChans;
}

/**
 * The plan of a config in the given form with the given kernels loaded (`maxScoreElements`: the
 * tf-op attention's chunk bound).
 */
export function samMemoryPlan(
  config: SamConfig,
  options: { weightForm: EncoderWeightForm; kernels: KernelBuild; onWasm?: boolean; maxScoreElements?: number },
): SamMemoryPlan {
  const { weightForm, kernels } = options;
  const onWasm = options.onWasm ?? true;
  const specs = samWeightSpecs(config);
  const floats = (names: (name: string) => boolean) =>
    specs.filter((s) => names(s.name)).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
  const padding = weightForm === 'packed' ? packedPaddingFloats(config) : 0;
  // Beside the weights: the encoder's expanded relative-position tables, the dense positional
  // encoding, and the decoder's derived layouts (folded and low-rank forms: at most its weights again).
  const grid = embeddingGridSize(config);
  const derived = relTableFloats(config) + grid * grid * config.promptEncoder.embedDim;
  const decoder = floats((name) => name.startsWith('mask_decoder.'));
  const weightBytes = (floats(() => true) + padding + derived + decoder) * F32;
  const weightCopyBytes = weightForm === 'plain' && onWasm ? productWeightFloats(config) * F32 : 0;
  const maxScores = options.maxScoreElements ?? MAX_SCORE_ELEMENTS;
  const activationBytes = activationFloats(config, kernels, onWasm, maxScores) * F32;
  const tensorBytes = weightBytes + weightCopyBytes + activationBytes;
  const allocatorBytes = Math.ceil(tensorBytes * ALLOCATOR_SLACK);
  return {
    model: config.name,
    weightForm,
    weightBytes,
    weightCopyBytes,
    activationBytes,
    allocatorBytes,
    totalBytes: tensorBytes + allocatorBytes,
  };
}

export interface BackendMemory {
  /** The heap's limit in bytes (Infinity where the backend sets none). */
  limit: number;
  /** Bytes the backend's tensors hold now (tf.memory(): a view sharing a buffer counts again, erring high). */
  inUse: number;
}

/** The limit of the backend in use: the wasm heap's (or `heapLimit`), none elsewhere. */
export function backendMemory(heapLimit?: number): BackendMemory {
  const limit = heapLimit ?? (tf.getBackend() === 'wasm' ? WASM_HEAP_LIMIT : Infinity);
  return { limit, inUse: tf.memory().numBytes };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * The form to build a frozen SAM in on the backend in use, and its plan; throws, naming the model,
 * the bytes needed and the limit, where no form fits. Packed where the project's kernels run it
 * faster (their relaxed-SIMD build) or where only it fits; plain otherwise.
 */
export function planSamMemory(config: SamConfig, options: { heapLimit?: number } = {}): SamMemoryPlan {
  const onWasm = tf.getBackend() === 'wasm';
  const canPack = onWasm && simdKernels() !== null;
  const kernels: KernelBuild = !canPack ? 'none' : packedMatMulPreferred() ? 'relaxed' : 'plain';
  const { limit, inUse } = backendMemory(options.heapLimit);
  const available = limit - inUse;
  const packed = canPack ? samMemoryPlan(config, { weightForm: 'packed', kernels }) : null;
  const plain = samMemoryPlan(config, { weightForm: 'plain', kernels, onWasm });
  const fitting = [packedMatMulPreferred() ? packed : plain, packed, plain].find(
    (p): p is SamMemoryPlan => p !== null && p.totalBytes <= available,
  );
  if (fitting) return fitting;
  const best = packed ?? plain;
  const parts = [`weights ${gib(best.weightBytes)}`];
  if (best.weightCopyBytes > 0) parts.push(`XNNPACK's packed copies of them ${gib(best.weightCopyBytes)}`);
  parts.push(`activations ${gib(best.activationBytes)} for a ${config.imageEncoder.imgSize}-px input`);
  parts.push(`allocator ${gib(best.allocatorBytes)}`);
  const hint = canPack
    ? 'use a smaller model, or the tensorflow backend (@tensorflow/tfjs-node)'
    : onWasm
      ? "the project's SIMD kernels, which hold each weight once, are not loaded (ALIGNSAM_SIMD_KERNELS=0, or an engine without wasm SIMD); load them, use a smaller model, or the tensorflow backend"
      : 'use a smaller model or raise the limit';
  throw new Error(
    `SAM '${config.name}' needs ${best.totalBytes} bytes (${gib(best.totalBytes)}: ${parts.join(', ')}) ` +
      `on the ${tf.getBackend()} backend, which has ${Math.max(0, available)} bytes (${gib(Math.max(0, available))}) ` +
      `free: its limit of ${limit} bytes (${gib(limit)}) less ${inUse} in use. ${hint[0].toUpperCase()}${hint.slice(1)}.`,
  );
}
