/**
 * A small RGB raster for report pictures: filled rectangles, thick anti-alias-free lines, discs,
 * bitmap text and scaled image blits. Coordinates are pixels, x right, y down.
 */
import { encodePng, writePng } from '../data/image-io';
import type { RgbImage } from '../data/types';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphOf, textWidth } from './font';

export type Rgb = readonly [number, number, number];

export const COLORS = {
  white: [255, 255, 255] as Rgb,
  black: [0, 0, 0] as Rgb,
  text: [30, 30, 30] as Rgb,
  axis: [60, 60, 60] as Rgb,
  grid: [225, 225, 225] as Rgb,
  positive: [30, 200, 50] as Rgb,
  negative: [230, 40, 40] as Rgb,
};

/** Series colours (distinct, colour-blind friendly: Okabe-Ito). */
export const PALETTE: readonly Rgb[] = [
  [0, 114, 178],
  [213, 94, 0],
  [0, 158, 115],
  [204, 121, 167],
  [230, 159, 0],
  [86, 180, 233],
  [120, 120, 120],
];

export class Canvas {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = COLORS.white,
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`Canvas: bad size ${width}x${height}`);
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  setPixel(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }

  getPixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.setPixel(xx, yy, c);
  }

  strokeRect(x: number, y: number, w: number, h: number, c: Rgb, thickness = 1): void {
    this.fillRect(x, y, w, thickness, c);
    this.fillRect(x, y + h - thickness, w, thickness, c);
    this.fillRect(x, y, thickness, h, c);
    this.fillRect(x + w - thickness, y, thickness, h, c);
  }

  /** A line `thickness` pixels wide (a square brush stepped along the longer axis). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1, dash = 0): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (thickness - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      if (dash > 0 && Math.floor(s / dash) % 2 === 1) continue;
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      if (thickness <= 1) this.setPixel(x, y, c);
      else this.fillRect(Math.round(x - r), Math.round(y - r), thickness, thickness, c);
    }
  }

  polyline(points: ReadonlyArray<readonly [number, number]>, c: Rgb, thickness = 1): void {
    for (let i = 1; i < points.length; i++) this.line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1], c, thickness);
    if (points.length === 1) this.disc(points[0][0], points[0][1], thickness, c);
  }

  disc(cx: number, cy: number, radius: number, c: Rgb): void {
    const r2 = radius * radius;
    for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++) {
      for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r2) this.setPixel(x, y, c);
      }
    }
  }

  /** Text with its top-left corner at (x, y). */
  text(x: number, y: number, text: string, c: Rgb = COLORS.text, scale = 1): void {
    let cx = Math.round(x);
    const y0 = Math.round(y);
    for (const ch of text) {
      const rows = glyphOf(ch);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (rows[row] & (1 << (GLYPH_WIDTH - 1 - col))) this.fillRect(cx + col * scale, y0 + row * scale, scale, scale, c);
        }
      }
      cx += GLYPH_ADVANCE * scale;
    }
  }

  /** Text aligned on (x, y): align 'left' | 'center' | 'right', vertical centre at y. */
  label(x: number, y: number, text: string, opts: { align?: 'left' | 'center' | 'right'; color?: Rgb; scale?: number } = {}): void {
    const scale = opts.scale ?? 1;
    const w = textWidth(text, scale);
    const dx = opts.align === 'right' ? -w : opts.align === 'center' ? -w / 2 : 0;
    this.text(x + dx, y - (GLYPH_HEIGHT * scale) / 2, text, opts.color ?? COLORS.text, scale);
  }

  /** Text rotated 90 degrees counter-clockwise (for a y-axis title), centred on (x, y). */
  verticalLabel(x: number, y: number, text: string, c: Rgb = COLORS.text, scale = 1): void {
    const w = textWidth(text, scale);
    const tmp = new Canvas(Math.max(1, w), GLYPH_HEIGHT * scale, [255, 0, 255]);
    tmp.text(0, 0, text, c, scale);
    const x0 = Math.round(x - (GLYPH_HEIGHT * scale) / 2);
    const y0 = Math.round(y + w / 2);
    for (let ty = 0; ty < tmp.height; ty++) {
      for (let tx = 0; tx < tmp.width; tx++) {
        const p = tmp.getPixel(tx, ty);
        if (p[0] === 255 && p[1] === 0 && p[2] === 255) continue;
        this.setPixel(x0 + ty, y0 - tx, p);
      }
    }
  }

  /** Draw an RGB image at (x, y), scaled by an integer factor (nearest neighbour). */
  blit(image: RgbImage, x: number, y: number, scale = 1): void {
    for (let sy = 0; sy < image.height; sy++) {
      for (let sx = 0; sx < image.width; sx++) {
        const i = (sy * image.width + sx) * 3;
        const c: Rgb = [image.data[i], image.data[i + 1], image.data[i + 2]];
        if (scale === 1) this.setPixel(x + sx, y + sy, c);
        else this.fillRect(x + sx * scale, y + sy * scale, scale, scale, c);
      }
    }
  }

  toImage(): RgbImage {
    return { width: this.width, height: this.height, data: this.data };
  }

  toPng(): Promise<Buffer> {
    return encodePng(this.toImage());
  }

  writePng(file: string): Promise<void> {
    return writePng(file, this.toImage());
  }
}
