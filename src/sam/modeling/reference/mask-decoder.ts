/**
 * The mask decoder computed the way segment_anything/modeling/mask_decoder.py computes it: the
 * transformer as the reference writes it, the upscaling as two transposed convolutions with a
 * LayerNorm2d and exact GELUs, then one hypernetwork product per mask. No sub-pixel layout, no
 * folded GELU factors, no per-image cache. Kept for reading and as the yardstick of the fast
 * decoder (../mask-decoder.ts): test/sam/reference-mask-decoder.test.ts holds them equal within
 * the parity tolerance.
 */
import * as tf from '@tensorflow/tfjs';
import type { MaskDecoderConfig } from '../../config';
import type { LinearParams, NormParams, ParamStore } from '../../weights/params';
import type { DecoderOutput } from '../mask-decoder';
import { gelu, layerNorm, mlp } from '../ops';
import { ReferenceTwoWayTransformer } from './two-way-transformer';

/** A ConvTranspose2d(kernel 2, stride 2): tfjs filter [2, 2, out, in] and bias. */
interface ConvTranspose2x2 {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export class ReferenceMaskDecoder {
  readonly transformer: ReferenceTwoWayTransformer;
  private readonly iouToken: tf.Tensor2D;
  private readonly maskTokens: tf.Tensor2D;
  private readonly upConv1: ConvTranspose2x2;
  private readonly upNorm: NormParams;
  private readonly upConv2: ConvTranspose2x2;
  private readonly hypernetworks: LinearParams[][];
  private readonly iouHead: LinearParams[];

  /** Weights from `params` (official names, inference), which owns them. */
  constructor(
    readonly config: MaskDecoderConfig,
    params: ParamStore,
    prefix = 'mask_decoder',
  ) {
    this.transformer = new ReferenceTwoWayTransformer(config.transformer, params, `${prefix}.transformer`);
    this.iouToken = params.tensor(`${prefix}.iou_token.weight`) as tf.Tensor2D;
    this.maskTokens = params.tensor(`${prefix}.mask_tokens.weight`) as tf.Tensor2D;
    // PyTorch stores ConvTranspose2d weights as [in, out, kh, kw].
    const convTranspose = (i: number): ConvTranspose2x2 => ({
      filter: params.own(
        () => params.temp(`${prefix}.output_upscaling.${i}.weight`).transpose([2, 3, 1, 0]) as tf.Tensor4D,
      ),
      bias: params.tensor(`${prefix}.output_upscaling.${i}.bias`) as tf.Tensor1D,
    });
    this.upConv1 = convTranspose(0);
    this.upNorm = params.norm(`${prefix}.output_upscaling.1`);
    this.upConv2 = convTranspose(3);
    const numMaskTokens = config.numMultimaskOutputs + 1;
    this.hypernetworks = Array.from({ length: numMaskTokens }, (_, i) =>
      params.mlp(`${prefix}.output_hypernetworks_mlps.${i}`, 3),
    );
    this.iouHead = params.mlp(`${prefix}.iou_prediction_head`, config.iouHeadDepth);
  }

  /**
   * The reference's `forward` for one image and one prompt set, channels-last:
   * `imageEmbedding`, `imagePe` and `dense` [E, E, D], `sparse` [T, D].
   */
  decode(
    imageEmbedding: tf.Tensor3D,
    imagePe: tf.Tensor3D,
    sparse: tf.Tensor2D,
    dense: tf.Tensor3D,
    multimaskOutput: boolean,
  ): DecoderOutput {
    return tf.tidy((): tf.TensorContainer => {
      const { masks, iouPred } = this.predictMasks(imageEmbedding, imagePe, sparse, dense);
      const first = multimaskOutput ? 1 : 0;
      const count = multimaskOutput ? masks.shape[0] - 1 : 1;
      const side = masks.shape[1];
      return {
        lowResLogits: masks.slice([first, 0, 0], [count, side, side]),
        iouPredictions: iouPred.slice([first], [count]),
      };
    }) as unknown as DecoderOutput;
  }

  /** Every mask token's mask [M, 4E, 4E] and predicted IoU [M]. */
  private predictMasks(
    imageEmbedding: tf.Tensor3D,
    imagePe: tf.Tensor3D,
    sparse: tf.Tensor2D,
    dense: tf.Tensor3D,
  ): { masks: tf.Tensor3D; iouPred: tf.Tensor1D } {
    const [e, , dim] = imageEmbedding.shape;
    const tokens = tf.concat([this.iouToken, this.maskTokens, sparse], 0) as tf.Tensor2D;
    const src = imageEmbedding.add(dense).reshape([e * e, dim]) as tf.Tensor2D;
    const { queries: hs, keys } = this.transformer.forward(src, imagePe.reshape([e * e, dim]) as tf.Tensor2D, tokens);
    const numMaskTokens = this.hypernetworks.length;

    const upscaled = this.upscale(keys.reshape([1, e, e, dim]) as tf.Tensor4D); // [4E, 4E, D/8]
    const hyperIn = tf.concat(
      this.hypernetworks.map((layers, i) => mlp(hs.slice([1 + i, 0], [1, dim]), layers)),
      0,
    ) as tf.Tensor2D; // [M, D/8]
    const side = 4 * e;
    const masks = tf
      .matMul(hyperIn, upscaled.reshape([side * side, dim / 8]) as tf.Tensor2D, false, true)
      .reshape([numMaskTokens, side, side]) as tf.Tensor3D;
    const iouPred = mlp(hs.slice([0, 0], [1, dim]), this.iouHead).reshape([numMaskTokens]) as tf.Tensor1D;
    return { masks, iouPred };
  }

  /** output_upscaling: ConvTranspose2d, LayerNorm2d, GELU, ConvTranspose2d, GELU. */
  private upscale(x: tf.Tensor4D): tf.Tensor3D {
    let y = this.convTranspose(x, this.upConv1);
    y = gelu(layerNorm(y, this.upNorm.gamma, this.upNorm.beta, 1e-6)) as tf.Tensor4D;
    y = gelu(this.convTranspose(y, this.upConv2)) as tf.Tensor4D;
    return y.squeeze([0]) as tf.Tensor3D;
  }

  private convTranspose(x: tf.Tensor4D, conv: ConvTranspose2x2): tf.Tensor4D {
    const [b, h, w] = x.shape;
    const out = conv.filter.shape[2];
    return tf.conv2dTranspose(x, conv.filter, [b, 2 * h, 2 * w, out], 2, 'valid').add(conv.bias) as tf.Tensor4D;
  }
}
