/**
 * From an RGB image to a cached-ready `ImageEmbedding`: the reference's preprocessing (resize the
 * longest side with PIL's bilinear filter, normalise, pad) and one encoder pass.
 */
import { createHash } from 'crypto';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/types';
import { ImageEmbedding } from './image-embedding';
import type { SamModel } from './modeling/sam-model';
import { normalizeAndPad, resizeImageLongestSide } from './processing/transforms';

/** Content key of an embedding: weights, encoder input size, image size and pixels. */
export function embeddingKey(model: SamModel, image: RgbImage): string {
  checkImage(image);
  const h = createHash('sha256');
  h.update(`${model.weightsId}|${model.config.imageEncoder.imgSize}|${image.width}x${image.height}|`);
  h.update(image.data);
  return h.digest('hex').slice(0, 40);
}

export function checkImage(image: RgbImage, what = 'image'): void {
  if (!image || !(image.data instanceof Uint8Array))
    throw new Error(`${what}: expected { width, height, data: Uint8Array }`);
  if (!(Number.isInteger(image.width) && Number.isInteger(image.height) && image.width > 0 && image.height > 0)) {
    throw new Error(`${what}: invalid size ${image.width}x${image.height}`);
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(
      `${what}: ${image.width}x${image.height} RGB needs ${image.width * image.height * 3} bytes, got ${image.data.length}`,
    );
  }
}

/** The encoder input [S, S, 3] for an image, and the size of the resized image inside it. */
export function preprocessImage(
  model: SamModel,
  image: RgbImage,
): { input: tf.Tensor3D; inputSize: { height: number; width: number } } {
  checkImage(image);
  const s = model.config.imageEncoder.imgSize;
  const original = { height: image.height, width: image.width };
  const resized = resizeImageLongestSide(image.data, original, s);
  const input = normalizeAndPad(resized.pixels, resized.size, s, model.config.pixelMean, model.config.pixelStd);
  return { input: tf.tensor3d(input, [s, s, 3]), inputSize: resized.size };
}

/** Run the image encoder once. The returned embedding owns its tensor. */
export function encodeImage(model: SamModel, image: RgbImage, key = embeddingKey(model, image)): ImageEmbedding {
  const { input, inputSize } = preprocessImage(model, image);
  try {
    const embedding = model.encodeImage(input);
    return new ImageEmbedding(key, embedding, { height: image.height, width: image.width }, inputSize);
  } finally {
    input.dispose();
  }
}
