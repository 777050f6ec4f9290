/**
 * SAM's ViT image encoder (segment_anything/modeling/image_encoder.py): patch embedding, absolute
 * positions, blocks with windowed or global attention and decomposed relative positions, and the
 * convolutional neck. Runs on one image at a time, channels-last: [S, S, 3] -> [G, G, outChans].
 */
import * as tf from '@tensorflow/tfjs';
import { ImageEncoderConfig } from '../config';
import { conv2d } from '../../tfjs-ops/conv2d';
import { bmm, gelu, layerNorm, linear } from './ops';
import { tokenSideMatMul } from '../../tfjs-ops/gemm';
import { keepPacked, packedMatMul, packMatrix, type PackedMatrix } from '../../tfjs-ops/packed-matmul';
import { relPosAttention, type RelPosTables } from '../../tfjs-ops/attention';
import { packConvFilter, packedConv2dSame, type PackedConvFilter } from '../../tfjs-ops/packed-conv2d';
import { relPosSoftmax } from '../../tfjs-ops/softmax';
import { unstack0 } from '../../tfjs-ops/unstack';
import { NormParams, ParamStore } from '../weights/params';

/** Default bound on the attention-score elements the tf-op attention materialises at once (64 MB). */
export const MAX_SCORE_ELEMENTS = 1 << 24;

export interface ImageEncoderOptions {
  /**
   * Keep the linears and the neck's 3x3 filter only as panels packed for the SIMD product (inference
   * on wasm with the kernels loaded): each weight is then held once on the heap, not as the plain
   * matrix beside XNNPACK's or the kernel's packed copy.
   */
  packWeights?: boolean;
  /** Bound on the scores the tf-op attention materialises at once (query rows are chunked to fit). */
  maxScoreElements?: number;
}

/** A linear as the encoder computes it: plain x @ w + b, or on the packed SIMD product. */
type EncoderLinear =
  { kind: 'plain'; w: tf.Tensor2D; b: tf.Tensor1D | null } | { kind: 'packed'; packed: PackedMatrix };

interface BlockParams {
  norm1: NormParams;
  norm2: NormParams;
  /** q, k and v projections: the column blocks of the reference's fused qkv linear. */
  qkv: [EncoderLinear, EncoderLinear, EncoderLinear];
  proj: EncoderLinear;
  lin1: EncoderLinear;
  lin2: EncoderLinear;
  /** Relative-position tables expanded per query row/column: [q, headDim, k] (tf-op form). */
  relHT: tf.Tensor3D | null;
  relWT: tf.Tensor3D | null;
  /** The tables as stored, [2 * size - 1, headDim] (attention kernel). */
  relPos: RelPosTables | null;
  /** 0 for global attention. */
  windowSize: number;
}

/**
 * rel_pos [2S-1, C] -> R[q, k, :] = rel_pos[q - k + S - 1], laid out as [q, C, k] for the product
 * q @ R. The lookup is a one-hot matMul rather than a gather so that it is differentiable on wasm
 * (which lacks the gather gradient's kernel).
 */
function expandRelPos(relPos: tf.Tensor2D, size: number): tf.Tensor3D {
  const rows = relPos.shape[0];
  const onehot = new Float32Array(size * size * rows);
  for (let q = 0; q < size; q++) for (let k = 0; k < size; k++) onehot[(q * size + k) * rows + q - k + size - 1] = 1;
  const dim = relPos.shape[1];
  return tf
    .matMul(tf.tensor2d(onehot, [size * size, rows]), relPos)
    .reshape([size, size, dim])
    .transpose([0, 2, 1]) as tf.Tensor3D;
}

const KERNELS_GONE =
  "image encoder: its weights are packed for the project's SIMD kernels, which are not loaded on the backend in use; build the model again after switching backends";

export class ImageEncoder {
  private readonly patch: EncoderLinear;
  private readonly posEmbed: tf.Tensor | null;
  private readonly blocks: BlockParams[] = [];
  private readonly neckConv1: EncoderLinear;
  private readonly neckNorm1: NormParams;
  private readonly neckConv2: { kind: 'plain'; filter: tf.Tensor4D } | { kind: 'packed'; packed: PackedConvFilter };
  private readonly neckNorm2: NormParams;
  readonly gridSize: number;
  /** Built over trainable variables: use only ops with gradients. */
  private readonly differentiable: boolean;
  private readonly packWeights: boolean;
  private readonly maxScoreElements: number;

  constructor(
    readonly config: ImageEncoderConfig,
    params: ParamStore,
    prefix = 'image_encoder',
    options: ImageEncoderOptions = {},
  ) {
    const c = config;
    this.gridSize = c.imgSize / c.patchSize;
    this.differentiable = params.differentiable;
    this.packWeights = options.packWeights ?? false;
    if (this.packWeights && this.differentiable)
      throw new Error('image encoder: packed weights are for inference only');
    this.maxScoreElements = options.maxScoreElements ?? MAX_SCORE_ELEMENTS;
    const biasOf = (name: string) => (params.has(name) ? () => params.temp(name) as tf.Tensor1D : null);
    // Patch embedding as a matMul over flattened patches ordered (ky, kx, channel).
    this.patch = this.linearFrom(
      params,
      () =>
        params
          .temp(`${prefix}.patch_embed.proj.weight`)
          .transpose([0, 2, 3, 1])
          .reshape([c.embedDim, c.patchSize * c.patchSize * c.inChans]) as tf.Tensor2D,
      biasOf(`${prefix}.patch_embed.proj.bias`),
    );
    this.posEmbed = c.useAbsPos
      ? params.own(() => params.temp(`${prefix}.pos_embed`).reshape([this.gridSize, this.gridSize, c.embedDim]))
      : null;
    for (let i = 0; i < c.depth; i++) {
      const b = `${prefix}.blocks.${i}`;
      const windowSize = c.globalAttnIndexes.includes(i) ? 0 : c.windowSize;
      const attnSize = windowSize > 0 ? windowSize : this.gridSize;
      const linear = (name: string) =>
        this.linearFrom(params, () => params.temp(`${name}.weight`) as tf.Tensor2D, biasOf(`${name}.bias`));
      this.blocks.push({
        norm1: params.norm(`${b}.norm1`),
        norm2: params.norm(`${b}.norm2`),
        qkv: this.splitQkv(params, `${b}.attn.qkv`, c.embedDim),
        proj: linear(`${b}.attn.proj`),
        lin1: linear(`${b}.mlp.lin1`),
        lin2: linear(`${b}.mlp.lin2`),
        relHT: c.useRelPos
          ? params.own(() => expandRelPos(params.temp(`${b}.attn.rel_pos_h`) as tf.Tensor2D, attnSize))
          : null,
        relWT: c.useRelPos
          ? params.own(() => expandRelPos(params.temp(`${b}.attn.rel_pos_w`) as tf.Tensor2D, attnSize))
          : null,
        relPos: c.useRelPos
          ? {
              h: params.tensor(`${b}.attn.rel_pos_h`) as tf.Tensor2D,
              w: params.tensor(`${b}.attn.rel_pos_w`) as tf.Tensor2D,
            }
          : null,
        windowSize,
      });
    }
    this.neckConv1 = this.linearFrom(
      params,
      () => params.temp(`${prefix}.neck.0.weight`).reshape([c.outChans, c.embedDim]) as tf.Tensor2D,
      null,
    );
    this.neckNorm1 = params.norm(`${prefix}.neck.1`);
    this.neckConv2 = this.packWeights
      ? {
          kind: 'packed',
          packed: this.packed(params, () =>
            // PyTorch's [out, in, kh, kw] as tfjs's [kh, kw, in, out] filter.
            packConvFilter(params.temp(`${prefix}.neck.2.weight`).transpose([2, 3, 1, 0]) as tf.Tensor4D),
          ),
        }
      : { kind: 'plain', filter: params.convFilter(`${prefix}.neck.2.weight`) };
    this.neckNorm2 = params.norm(`${prefix}.neck.3`);
  }

  /**
   * A linear from its weight in PyTorch's [out, in] layout and its bias. Packed, the panels are made
   * straight from that layout inside a tidy, so the plain weight never outlives the packing.
   */
  private linearFrom(
    params: ParamStore,
    weightOutIn: () => tf.Tensor2D,
    bias: (() => tf.Tensor1D) | null,
  ): EncoderLinear {
    if (this.packWeights)
      return {
        kind: 'packed',
        packed: this.packed(params, () => packMatrix(weightOutIn(), { transposed: true, bias: bias?.() ?? null })),
      };
    return {
      kind: 'plain',
      w: params.own(() => weightOutIn().transpose() as tf.Tensor2D),
      b: bias ? params.own(bias) : null,
    };
  }

  /** Runs `pack` in a tidy that keeps only the packed tensors, which `params` then owns. */
  private packed<P extends PackedMatrix>(params: ParamStore, pack: () => P | null): P {
    const made: { packed: P | null } = { packed: null };
    tf.tidy(() => {
      made.packed = pack();
      if (made.packed) keepPacked(made.packed).forEach((t) => params.adopt(t));
    });
    if (!made.packed) throw new Error(KERNELS_GONE);
    return made.packed;
  }

  /**
   * The fused qkv linear as three linears. Separate q, k, v outputs need only a rank-4 transpose to
   * reach head-major layout; the fused output needs a rank-5 one, which tfjs-wasm runs ~50x slower
   * per element (1.45 s against ~26 ms for the 3.7M values of a ViT-B windowed block).
   */
  private splitQkv(params: ParamStore, prefix: string, dim: number): [EncoderLinear, EncoderLinear, EncoderLinear] {
    const hasBias = params.has(`${prefix}.bias`);
    // PyTorch's weight is [3C, C]: rows s*C .. (s+1)*C are part s.
    const part = (s: number): EncoderLinear =>
      this.linearFrom(
        params,
        () => params.temp(`${prefix}.weight`).slice([s * dim, 0], [dim, dim]) as tf.Tensor2D,
        hasBias ? () => params.temp(`${prefix}.bias`).slice([s * dim], [dim]) as tf.Tensor1D : null,
      );
    return [part(0), part(1), part(2)];
  }

  /** x [..., in] @ w + b, on the packed SIMD product for packed weights. */
  private linear(x: tf.Tensor, l: EncoderLinear): tf.Tensor {
    if (l.kind === 'plain') return linear(x, l.w, l.b);
    const { k, n } = l.packed;
    const y = packedMatMul(x.reshape([-1, k]) as tf.Tensor2D, l.packed);
    if (!y) throw new Error(KERNELS_GONE);
    return y.reshape([...x.shape.slice(0, -1), n]);
  }

  /** The neck's 3x3 convolution ('same' padding). */
  private neckConv(y: tf.Tensor3D): tf.Tensor3D {
    if (this.neckConv2.kind === 'plain')
      return conv2d(y.expandDims(0) as tf.Tensor4D, this.neckConv2.filter, 'same').squeeze([0]);
    const out = packedConv2dSame(y, this.neckConv2.packed);
    if (!out) throw new Error(KERNELS_GONE);
    return out;
  }

  /** Patch embedding without positions: [S, S, 3] -> [G, G, C] (the fixtures' `encoder.patch_embed`). */
  patchEmbed(input: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { patchSize: p, inChans, embedDim } = this.config;
      const g = this.gridSize;
      const patches = input
        .reshape([g, p, g, p, inChans])
        .transpose([0, 2, 1, 3, 4])
        .reshape([g * g, p * p * inChans]);
      return this.linear(patches, this.patch).reshape([g, g, embedDim]) as tf.Tensor3D;
    });
  }

  /**
   * Encode a preprocessed image [S, S, 3] (normalised and padded) into the embedding [G, G, outChans].
   * `onBlock` receives each block's output (for parity checks); it must not dispose it.
   */
  forward(input: tf.Tensor3D, onBlock?: (index: number, output: tf.Tensor3D) => void): tf.Tensor3D {
    let x = tf.tidy(() => {
      const patches = this.patchEmbed(input);
      return this.posEmbed ? patches.add(this.posEmbed) : patches;
    }) as tf.Tensor3D;
    this.blocks.forEach((block, i) => {
      const next = this.block(block, x);
      x.dispose();
      x = next;
      onBlock?.(i, x);
    });
    const out = tf.tidy(() => {
      const eps = this.config.normEps;
      let y = this.linear(x, this.neckConv1);
      y = layerNorm(y, this.neckNorm1.gamma, this.neckNorm1.beta, eps, this.differentiable);
      y = this.neckConv(y as tf.Tensor3D);
      return layerNorm(y, this.neckNorm2.gamma, this.neckNorm2.beta, eps, this.differentiable) as tf.Tensor3D;
    });
    x.dispose();
    return out;
  }

  private block(p: BlockParams, x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const eps = this.config.normEps;
      const [h, w, c] = x.shape;
      let y = layerNorm(x, p.norm1.gamma, p.norm1.beta, eps, this.differentiable) as tf.Tensor3D;
      let windows: tf.Tensor4D;
      let padH = 0;
      let padW = 0;
      if (p.windowSize > 0) {
        const ws = p.windowSize;
        // Zero padding after the norm, and no attention mask: exactly the reference's behaviour.
        padH = (ws - (h % ws)) % ws;
        padW = (ws - (w % ws)) % ws;
        if (padH > 0 || padW > 0)
          y = tf.pad(y, [
            [0, padH],
            [0, padW],
            [0, 0],
          ]);
        const nh = (h + padH) / ws;
        const nw = (w + padW) / ws;
        windows = y
          .reshape([nh, ws, nw, ws, c])
          .transpose([0, 2, 1, 3, 4])
          .reshape([nh * nw, ws, ws, c]);
      } else {
        windows = y.expandDims(0) as tf.Tensor4D;
      }
      // The output projection is per token: applied after the windows are reassembled and the
      // padding cropped, it skips the padded tokens (804 of 4900 for a 64x64 ViT-B grid).
      let attended = this.attention(p, windows);
      if (p.windowSize > 0) {
        const ws = p.windowSize;
        const nh = (h + padH) / ws;
        const nw = (w + padW) / ws;
        attended = attended
          .reshape([nh, nw, ws, ws, c])
          .transpose([0, 2, 1, 3, 4])
          .reshape([h + padH, w + padW, c]);
        if (padH > 0 || padW > 0) attended = attended.slice([0, 0, 0], [h, w, c]);
      } else {
        attended = attended.reshape([h, w, c]);
      }
      const x1 = x.add(this.linear(attended, p.proj));
      const hidden = gelu(
        this.linear(layerNorm(x1, p.norm2.gamma, p.norm2.beta, eps, this.differentiable), p.lin1),
        this.differentiable,
      );
      return x1.add(this.linear(hidden, p.lin2)) as tf.Tensor3D;
    });
  }

  /**
   * Multi-head attention with decomposed relative positions over windows [B, H, W, C], before the
   * output projection (the caller applies it).
   */
  private attention(p: BlockParams, x: tf.Tensor4D): tf.Tensor {
    const [nb, h, w, c] = x.shape;
    const heads = this.config.numHeads;
    const dh = c / heads;
    const n = h * w;
    const scale = 1 / Math.sqrt(dh);
    const d = this.differentiable;
    const x2 = x.reshape([nb * n, c]);
    const [q2, k2, v2] = p.qkv.map((lin) => this.linear(x2, lin)) as tf.Tensor2D[];
    // [B*N, C] -> [B, heads, N, dh] -> B*heads items [N, dh]
    const toHeads = (t: tf.Tensor2D) =>
      t
        .reshape([nb, n, heads, dh])
        .transpose([0, 2, 1, 3])
        .reshape([nb * heads, n, dh]) as tf.Tensor3D;
    const fused = relPosAttention(q2, k2, v2, p.relPos, { batches: nb, heads, kh: h, kw: w, scale }, d);
    if (fused) return fused.reshape([nb, h, w, c]);
    const q = toHeads(q2);
    const bh = nb * heads;
    let relH: tf.Tensor | null = null;
    let relW: tf.Tensor | null = null;
    if (p.relHT && p.relWT) {
      // rel_h[b, qy, qx, ky] = sum_c q[b, qy, qx, c] * Rh[qy, ky, c]  (unscaled q, as the reference)
      const q4 = q.reshape([bh, h, w, dh]);
      relH = bmm(q4.transpose([1, 0, 2, 3]).reshape([h, bh * w, dh]) as tf.Tensor3D, p.relHT, d)
        .reshape([h, bh, w, h])
        .transpose([1, 0, 2, 3]); // [bh, qy, qx, ky]
      relW = bmm(q4.transpose([2, 0, 1, 3]).reshape([w, bh * h, dh]) as tf.Tensor3D, p.relWT, d)
        .reshape([w, bh, h, w])
        .transpose([1, 2, 0, 3]); // [bh, qy, qx, kx]
    }
    const k = toHeads(k2);
    const v = toHeads(v2);
    const qs = q.mul(scale);
    const outputs: tf.Tensor[] = [];
    // Rows of queries per chunk so that a chunk's scores stay under maxScoreElements.
    const rowsPerChunk = Math.max(1, Math.min(h, Math.floor(this.maxScoreElements / (w * n))));
    const qsItems = unstack0(qs, d);
    const kItems = unstack0(k, d);
    const vItems = unstack0(v, d);
    const relHItems = relH ? unstack0(relH, d) : null;
    const relWItems = relW ? unstack0(relW, d) : null;
    // Windows (n = 196 for ViT-B): the unpacked SIMD product beats XNNPACK, which packs each
    // new right operand (measured 58-64 against 80 ms per 300 products). Global blocks keep
    // XNNPACK: there kT's 4096-float row stride aliases in L1 for the unpacked kernel.
    const small = n <= 1024;
    for (let i = 0; i < bh; i++) {
      const kT = kItems[i].transpose();
      const chunks: tf.Tensor[] = [];
      for (let y0 = 0; y0 < h; y0 += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, h - y0);
        chunks.push(
          tf.tidy(() => {
            const qChunk = qsItems[i].slice([y0 * w, 0], [rows * w, dh]) as tf.Tensor2D;
            const scores = small
              ? tokenSideMatMul(qChunk, kT as tf.Tensor2D, null, d)
              : (tf.matMul(qChunk, kT) as tf.Tensor2D);
            let probs: tf.Tensor2D | null = null;
            if (relHItems && relWItems) {
              const rh = relHItems[i].slice([y0, 0, 0], [rows, w, h]).reshape([rows * w, h]) as tf.Tensor2D;
              const rw = relWItems[i].slice([y0, 0, 0], [rows, w, w]).reshape([rows * w, w]) as tf.Tensor2D;
              probs =
                relPosSoftmax(scores, rh, rw, d) ??
                (tf.softmax(
                  scores
                    .reshape([rows, w, h, w])
                    .add(rh.reshape([rows, w, h, 1]))
                    .add(rw.reshape([rows, w, 1, w]))
                    .reshape([rows * w, n]),
                ) as tf.Tensor2D);
            }
            const p = probs ?? (tf.softmax(scores) as tf.Tensor2D);
            return small ? tokenSideMatMul(p, vItems[i] as tf.Tensor2D, null, d) : tf.matMul(p, vItems[i]);
          }),
        );
      }
      outputs.push(chunks.length === 1 ? chunks[0] : tf.concat(chunks, 0));
    }
    // [B*heads, N, dh] -> [B, N, heads*dh]
    return tf.stack(outputs).reshape([nb, heads, n, dh]).transpose([0, 2, 1, 3]).reshape([nb, h, w, c]);
  }
}
