/**
 * Data-layer types. `data` is the lowest layer, so the image type lives here and higher layers
 * (env, sam, cli) reuse it.
 */

/** An RGB image, HWC uint8, row-major: pixel (x, y) channel c is `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Where a sample came from; every field optional so each data set fills what it knows. */
export interface SampleMeta {
  imagePath?: string;
  maskPath?: string;
  /** COCO image id / annotation ids behind this sample. */
  imageId?: number;
  annotationIds?: number[];
  categoryId?: number;
  /** Instance id in an instance-id mask (mask folders) or in a synthetic scene. */
  instanceId?: number;
  /** Synthetic scenes: the generator's seed and global index, enough to regenerate the scene. */
  seed?: number;
  sceneIndex?: number;
  [key: string]: unknown;
}

export interface Sample {
  /** Stable and unique within its data set (e.g. `img001#3` for instance 3 of img001). */
  id: string;
  image: RgbImage;
  /** Row-major H*W, 1 = target foreground, 0 = everything else. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** The target's name (category or shape), or null when the task has no name (implicit task). */
  targetName: string | null;
  meta?: SampleMeta;
}

export interface SegmentationDataset {
  readonly name: string;
  readonly length: number;
  /** Index in [0, length). Same index, same sample. */
  get(index: number): Promise<Sample>;
  /** The target names this data set can produce, when known. */
  readonly categories?: string[];
}

/** A sample that a data set left out (onBadSample: 'skip'), with the file at fault and why. */
export interface BadSampleReport {
  file: string;
  reason: string;
}

export type OnBadSample = 'error' | 'skip';

/**
 * Smallest image side the data sets accept, in pixels. Below it a grid of click cells has no
 * distinct pixels to click and SAM's input is mostly padding: such images are bad samples.
 */
export const MIN_IMAGE_SIDE = 4;

/** Why an image of this size cannot be a sample, or null. */
export function tinyImageProblem(width: number, height: number): string | null {
  if (width >= MIN_IMAGE_SIDE && height >= MIN_IMAGE_SIDE) return null;
  return `image is ${width}x${height} pixels, smaller than the minimum of ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE}`;
}

/**
 * Why a target of `area` pixels in a `width` x `height` image cannot be a sample, or null: an empty
 * target has nothing to segment, and one covering every pixel is almost always a wrong file (an
 * RGB photo read as a mask) rather than an object.
 */
export function targetProblem(area: number, width: number, height: number): string | null {
  if (area === 0) return 'the target is empty (no pixel of its mask is set)';
  if (area === width * height)
    return `the target covers the whole ${width}x${height} image (every pixel of its mask is set)`;
  return null;
}

/** Appended to a bad-sample error: how to leave such samples out instead. */
export const SKIP_HINT = 'set data.on_bad_sample: skip (onBadSample in the library) to leave such samples out';

/** Throws a RangeError naming the data set when `index` is not an integer in [0, length). */
export function checkIndex(dataset: { name: string; length: number }, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.length) {
    throw new RangeError(`${dataset.name}: index ${index} out of range [0, ${dataset.length})`);
  }
}
