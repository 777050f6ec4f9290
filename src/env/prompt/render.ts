/**
 * A picture of an episode: the photo, the ground truth's outline (green), the current mask as a
 * blue tint, and the clicks as discs (green positive, red negative) with a white rim.
 */
import type { Sample } from '../../data/types';
import type { RgbImage } from '../types';

function disc(
  out: Uint8Array,
  width: number,
  height: number,
  cx: number,
  cy: number,
  radius: number,
  rgb: readonly number[],
): void {
  const r2 = radius * radius;
  const rim2 = (radius + 1.5) * (radius + 1.5);
  for (let y = Math.max(0, Math.floor(cy - radius - 2)); y <= Math.min(height - 1, Math.ceil(cy + radius + 2)); y++) {
    for (let x = Math.max(0, Math.floor(cx - radius - 2)); x <= Math.min(width - 1, Math.ceil(cx + radius + 2)); x++) {
      const d2 = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2;
      if (d2 > rim2) continue;
      const colour = d2 <= r2 ? rgb : [255, 255, 255];
      out.set(colour, (y * width + x) * 3);
    }
  }
}

export function renderEpisode(
  sample: Sample,
  mask: Uint8Array,
  pointsXY: readonly number[],
  labels: readonly (0 | 1)[],
): RgbImage {
  const { width, height, image } = sample;
  const out = Uint8Array.from(image.data);
  for (let i = 0; i < width * height; i++) {
    if (mask[i]) {
      out[i * 3] = Math.round(out[i * 3] * 0.55);
      out[i * 3 + 1] = Math.round(out[i * 3 + 1] * 0.55 + 40);
      out[i * 3 + 2] = Math.round(out[i * 3 + 2] * 0.55 + 115);
    }
  }
  const gt = sample.mask;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!gt[i]) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        !gt[i - 1] ||
        !gt[i + 1] ||
        !gt[i - width] ||
        !gt[i + width];
      if (edge) out.set([40, 220, 60], i * 3);
    }
  }
  const radius = Math.max(2, Math.round(Math.min(width, height) / 60));
  labels.forEach((label, k) =>
    disc(out, width, height, pointsXY[2 * k], pointsXY[2 * k + 1], radius, label === 1 ? [30, 200, 50] : [230, 40, 40]),
  );
  return { width, height, data: out };
}
