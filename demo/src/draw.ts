/**
 * Drawing on the page's canvases: the image with the mask laid over it, the action grid and the
 * numbered clicks (green positive, red negative); and the mask alone at the image's resolution
 * (white on black), whose pixels match the reported mask area one for one.
 */
import type { RgbImage } from '../../src/data/types';
import type { DemoClick } from './episode';

export const POSITIVE = '#22c55e';
export const NEGATIVE = '#ef4444';
const MASK_RGB = [56, 132, 255];
const MASK_ALPHA = 0.55;

function imageData(width: number, height: number, fill: (rgba: Uint8ClampedArray) => void): ImageData {
  const rgba = new Uint8ClampedArray(width * height * 4);
  fill(rgba);
  return new ImageData(rgba, width, height);
}

/** The image with the mask blended in, at the image's resolution. */
export function compositeImage(image: RgbImage, mask: Uint8Array | null): ImageData {
  return imageData(image.width, image.height, (rgba) => {
    for (let i = 0, n = image.width * image.height; i < n; i++) {
      const m = mask && mask[i] ? MASK_ALPHA : 0;
      for (let c = 0; c < 3; c++) rgba[4 * i + c] = (1 - m) * image.data[3 * i + c] + m * MASK_RGB[c];
      rgba[4 * i + 3] = 255;
    }
  });
}

/** View canvas: composite scaled up (nearest), grid lines, numbered clicks. */
export function drawView(
  canvas: HTMLCanvasElement,
  image: RgbImage,
  mask: Uint8Array | null,
  clicks: readonly DemoClick[],
  gridSize: number | null,
  displaySide = 512,
): void {
  const scale = displaySide / Math.max(image.width, image.height);
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  const ctx = canvas.getContext('2d')!;
  const small = document.createElement('canvas');
  small.width = image.width;
  small.height = image.height;
  small.getContext('2d')!.putImageData(compositeImage(image, mask), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (gridSize) {
    ctx.strokeStyle = 'rgba(255,255,255,0.18)';
    ctx.lineWidth = 1;
    for (let k = 1; k < gridSize; k++) {
      const x = Math.round((k * canvas.width) / gridSize) + 0.5;
      const y = Math.round((k * canvas.height) / gridSize) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, canvas.height);
      ctx.moveTo(0, y);
      ctx.lineTo(canvas.width, y);
      ctx.stroke();
    }
  }
  const r = Math.max(7, Math.round(canvas.width / 45));
  ctx.font = `bold ${Math.round(r * 1.15)}px sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  clicks.forEach((c, i) => {
    // Cell centres, in the original image's continuous coordinates.
    const x = c.x * scale;
    const y = c.y * scale;
    const last = i === clicks.length - 1 && c.step > 0;
    ctx.beginPath();
    ctx.arc(x, y, last ? r * 1.25 : r, 0, 2 * Math.PI);
    ctx.fillStyle = c.label === 1 ? POSITIVE : NEGATIVE;
    ctx.fill();
    ctx.lineWidth = last ? 3 : 1.5;
    ctx.strokeStyle = last ? '#ffffff' : 'rgba(0,0,0,0.7)';
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.fillText(c.step === 0 ? '0' : String(c.step), x, y + 0.5);
  });
}

/** Mask canvas at the image's resolution: mask pixels white, the rest black. */
export function drawMask(canvas: HTMLCanvasElement, width: number, height: number, mask: Uint8Array | null): void {
  canvas.width = width;
  canvas.height = height;
  const data = imageData(width, height, (rgba) => {
    for (let i = 0; i < width * height; i++) {
      const v = mask && mask[i] ? 255 : 0;
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
      rgba[4 * i + 3] = 255;
    }
  });
  canvas.getContext('2d')!.putImageData(data, 0, 0);
}
