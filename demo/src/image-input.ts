/**
 * Images from the user: a dropped or chosen file decoded by the browser into RGB pixels, scaled
 * down when its longest side exceeds `maxSide` (the micro-SAM sees 128 pixels anyway; full-size
 * masks of large photos only cost time and memory).
 */
import type { RgbImage } from '../../src/data/types';

export async function rgbImageFromBlob(blob: Blob, maxSide = 1024): Promise<RgbImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (err) {
    throw new Error(`${(blob as File).name ?? 'image'}: the browser cannot decode it (${(err as Error).message})`);
  }
  const s = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * s));
  const height = Math.max(1, Math.round(bitmap.height * s));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = rgba[4 * i];
    data[3 * i + 1] = rgba[4 * i + 1];
    data[3 * i + 2] = rgba[4 * i + 2];
  }
  return { width, height, data };
}
