/**
 * The reference's mask post-processing: low-res logits -> bilinear (align_corners=False) to the
 * padded input square -> crop the resized image -> bilinear to the original size.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSizeHW } from './transforms';

export function postprocessMasks(lowResLogits: tf.Tensor3D, inputSize: ImageSizeHW, originalSize: ImageSizeHW, imgSize: number): tf.Tensor3D {
  return tf.tidy(() => {
    const x = lowResLogits.expandDims(3) as tf.Tensor4D; // [M, L, L, 1]
    const padded = tf.image.resizeBilinear(x, [imgSize, imgSize], false, true);
    const cropped = padded.slice([0, 0, 0, 0], [-1, inputSize.height, inputSize.width, 1]);
    return tf.image.resizeBilinear(cropped, [originalSize.height, originalSize.width], false, true).squeeze([3]) as tf.Tensor3D;
  });
}
