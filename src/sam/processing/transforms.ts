/**
 * The reference's ResizeLongestSide and input normalisation. Points are (x, y); sizes are
 * (height, width). Scales in x and y differ slightly because each side is rounded separately.
 */
import { resizeBilinearPil } from './pil-resize';

export interface ImageSizeHW {
  height: number;
  width: number;
}

/** Size after scaling the longest side to `target`: (int(h*s + 0.5), int(w*s + 0.5)). */
export function resizeLongestSideSize(size: ImageSizeHW, target: number): ImageSizeHW {
  const scale = target / Math.max(size.height, size.width);
  return { height: Math.floor(size.height * scale + 0.5), width: Math.floor(size.width * scale + 0.5) };
}

/** Map (x, y) pairs from the original image to the resized input frame. */
export function applyCoords(pointsXY: ArrayLike<number>, original: ImageSizeHW, target: number): Float32Array {
  const resized = resizeLongestSideSize(original, target);
  const sx = resized.width / original.width;
  const sy = resized.height / original.height;
  const out = new Float32Array(pointsXY.length);
  for (let i = 0; i < pointsXY.length; i += 2) {
    out[i] = pointsXY[i] * sx;
    out[i + 1] = pointsXY[i + 1] * sy;
  }
  return out;
}

/** Map (x0, y0, x1, y1) boxes from the original image to the resized input frame. */
export function applyBoxes(boxesXYXY: ArrayLike<number>, original: ImageSizeHW, target: number): Float32Array {
  return applyCoords(boxesXYXY, original, target);
}

/** Resize an RGB uint8 image (HWC) so its longest side is `target`, as the reference does (PIL bilinear). */
export function resizeImageLongestSide(
  rgb: Uint8Array,
  size: ImageSizeHW,
  target: number,
): { pixels: Uint8Array; size: ImageSizeHW } {
  const out = resizeLongestSideSize(size, target);
  return { pixels: resizeBilinearPil(rgb, size.width, size.height, 3, out.width, out.height), size: out };
}

/**
 * (pixel - mean) / std per channel in float32, zero-padded at the bottom and right to
 * target x target: the encoder input, HWC.
 */
export function normalizeAndPad(
  rgb: Uint8Array,
  size: ImageSizeHW,
  target: number,
  pixelMean: readonly number[],
  pixelStd: readonly number[],
): Float32Array {
  if (size.height > target || size.width > target) {
    throw new Error(`normalizeAndPad: image ${size.width}x${size.height} is larger than the input size ${target}`);
  }
  const out = new Float32Array(target * target * 3);
  const mean = Float32Array.from(pixelMean);
  const std = Float32Array.from(pixelStd);
  // A pixel is one of 256 values per channel: normalise each once (float32 steps, as the
  // reference's tensor arithmetic) and look them up.
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++)
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(v - mean[c]) / std[c]);
  const rowLength = size.width * 3;
  for (let y = 0; y < size.height; y++) {
    const i0 = y * rowLength;
    const o0 = y * target * 3;
    for (let j = 0; j < rowLength; j += 3) {
      out[o0 + j] = lut[rgb[i0 + j]];
      out[o0 + j + 1] = lut[256 + rgb[i0 + j + 1]];
      out[o0 + j + 2] = lut[512 + rgb[i0 + j + 2]];
    }
  }
  return out;
}
