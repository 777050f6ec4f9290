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
  /** Every weight once, with the encoder's derived relative-position tables. */
  weightBytes: number;
  /** The copies the product keeps beside the weights: XNNPACK's packed ones in the plain form on wasm. */
  weightCopyBytes: number;
  /** Peak activations of one encoder pass at the config's input size. */
  activationBytes: number;
  totalBytes: number;
}

const F32 = 4;

/** The encoder's weights that run as the right operand of a product (linears, patch and neck filters). */
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

/**
 * Peak activation floats of one encoder pass: a block keeps every intermediate until it returns (it
 * runs in one tf.tidy), so its peak is their sum; the largest block (or the neck) sets the peak.
 */
function activationFloats(config: SamConfig, attentionKernel: boolean, maxScoreElements: number): number {
  const ie = config.imageEncoder;
  const g = embeddingGridSize(config);
  const t = g * g;
  const c = ie.embedDim;
  const m = Math.floor(c * ie.mlpRatio);
  const heads = ie.numHeads;
  const dh = c / heads;
  // Input and output of the block, its norms, projections, residual sums and MLP.
  const blockBase = 2 * t * c + 5 * t * c + 2 * t * m;
  const blockPeak = (side: number, windows: number) => {
    const n = side * side;
    const tq = windows * n; // tokens attended, padding included
    // Padding, window partition, q, k and v, the attention's output and its reassembly.
    let floats = blockBase + 7 * tq * c;
    if (!attentionKernel) {
      // Head-major copies of q, k, v (and the per-head items, k transposed, XNNPACK's copies of
      // the right operands), the relative-position terms, the outputs' concatenation and layout.
      floats += 12 * tq * c + 4 * tq * heads * side;
      // One chunk of query rows: scores, the terms added to them, the probabilities, the output.
      const rows = Math.max(1, Math.min(side, Math.floor(maxScoreElements / (side * n))));
      floats += 4 * rows * side * n + rows * side * dh;
    }
    return floats;
  };
  let peak = 0;
  for (let i = 0; i < ie.depth; i++) {
    const global = ie.globalAttnIndexes.includes(i) || ie.windowSize === 0;
    const side = global ? g : ie.windowSize;
    const windows = global ? 1 : Math.ceil(g / side) ** 2;
    peak = Math.max(peak, blockPeak(side, windows));
  }
  const s = ie.imgSize;
  const patchEmbed = 2 * s * s * ie.inChans + 3 * t * c;
  // The neck: its two convolutions and norms, the 3x3 product's gathered patches, and the block output.
  const neck = t * c + 4 * t * ie.outChans + 128 * 9 * ie.outChans;
  return Math.max(peak, patchEmbed, neck) + s * s * ie.inChans;
}

/** The plan of a config in the given form; `maxScoreElements` is the tf-op attention's chunk bound. */
export function samMemoryPlan(
  config: SamConfig,
  options: { weightForm: EncoderWeightForm; onWasm?: boolean; attentionKernel?: boolean; maxScoreElements?: number },
): SamMemoryPlan {
  const { weightForm } = options;
  const onWasm = options.onWasm ?? true;
  const specFloats = samWeightSpecs(config).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
  const padding = weightForm === 'packed' ? packedPaddingFloats(config) : 0;
  const weightBytes = (specFloats + padding + relTableFloats(config)) * F32;
  const weightCopyBytes = weightForm === 'plain' && onWasm ? productWeightFloats(config) * F32 : 0;
  const attentionKernel = options.attentionKernel ?? weightForm === 'packed';
  const activationBytes =
    activationFloats(config, attentionKernel, options.maxScoreElements ?? MAX_SCORE_ELEMENTS) * F32;
  return {
    model: config.name,
    weightForm,
    weightBytes,
    weightCopyBytes,
    activationBytes,
    totalBytes: weightBytes + weightCopyBytes + activationBytes,
  };
}

export interface BackendMemory {
  /** The heap's limit in bytes (Infinity where the backend sets none). */
  limit: number;
  /** Bytes the backend's tensors hold now. */
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
  const { limit, inUse } = backendMemory(options.heapLimit);
  const available = limit - inUse;
  const packed = canPack
    ? samMemoryPlan(config, { weightForm: 'packed', attentionKernel: packedMatMulPreferred() })
    : null;
  const plain = samMemoryPlan(config, { weightForm: 'plain', onWasm });
  const fitting = [packedMatMulPreferred() ? packed : plain, packed, plain].find(
    (p): p is SamMemoryPlan => p !== null && p.totalBytes <= available,
  );
  if (fitting) return fitting;
  const best = packed ?? plain;
  const parts = [`weights ${gib(best.weightBytes)}`];
  if (best.weightCopyBytes > 0) parts.push(`XNNPACK's packed copies of them ${gib(best.weightCopyBytes)}`);
  parts.push(`activations ${gib(best.activationBytes)} for a ${config.imageEncoder.imgSize}-px input`);
  const hint = canPack
    ? 'use a smaller model, or the tensorflow backend (@tensorflow/tfjs-node)'
    : onWasm
      ? "the project's SIMD kernels, which hold each weight once, are not loaded (ALIGNSAM_SIMD_KERNELS=0, or an engine without wasm SIMD); load them, use a smaller model, or the tensorflow backend"
      : 'use a smaller model or raise the limit';
  throw new Error(
    `SAM '${config.name}' needs ${best.totalBytes} bytes (${gib(best.totalBytes)}: ${parts.join(', ')}) ` +
      `on the ${tf.getBackend()} backend, which has ${Math.max(0, available)} bytes (${gib(Math.max(0, available))}) ` +
      `free: a ${gib(limit)} limit less ${gib(inUse)} in use. ${hint[0].toUpperCase()}${hint.slice(1)}.`,
  );
}
