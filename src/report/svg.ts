/**
 * Figures as SVG markup. The chart code writes the elements; sharp (librsvg, with the system's
 * fonts) rasterises them to PNG. The markup is a pure function of the input, so an SVG can be
 * compared byte for byte, while the PNG's pixels depend on the fonts installed.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { writeAll, writeFileAtomic } from '../io/atomic-file';

export const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** A drawing of `width` x `height` pixels: `body` is the SVG markup inside the root element. */
export interface Figure {
  readonly width: number;
  readonly height: number;
  readonly body: string;
}

/** A coordinate or length as short, stable text (two decimals at most). */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An element with attributes (undefined ones left out) and optional text or child markup. */
export function el(name: string, attrs: Record<string, string | number | undefined>, content?: string): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v as string)}"`)
    .join('');
  return content === undefined ? `<${name}${a}/>` : `<${name}${a}>${content}</${name}>`;
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  color?: string;
  weight?: 'normal' | 'bold';
  /** Degrees, about (x, y). */
  rotate?: number;
}

/** Text whose vertical middle is at y (librsvg has no dominant-baseline, hence the dy). */
export function text(x: number, y: number, content: string, opts: TextOptions = {}): string {
  return el(
    'text',
    {
      x,
      y,
      dy: '0.35em',
      'font-size': opts.size ?? 12,
      'text-anchor': opts.anchor ?? 'start',
      fill: opts.color ?? '#1e1e1e',
      'font-weight': opts.weight === 'bold' ? 'bold' : undefined,
      transform: opts.rotate ? `rotate(${num(opts.rotate)} ${num(x)} ${num(y)})` : undefined,
    },
    escapeXml(content),
  );
}

/**
 * An upper bound on the width of `content` at font size `size`: wide enough for DejaVu Sans, the
 * widest of the fonts named, for laying out legends and margins without measuring.
 */
export function textWidth(content: string, size = 12): number {
  return content.length * size * 0.62;
}

/** The standalone SVG of a figure, on white unless `background` is null (an overlay). */
export function svgDocument(f: Figure, background: string | null = '#ffffff'): string {
  const fill = background === null ? '' : `${el('rect', { width: f.width, height: f.height, fill: background })}\n`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="${FONT_FAMILY}">\n` +
    `${fill}${f.body}\n</svg>\n`
  );
}

/** Figures one above the other, as wide as the widest. */
export function stackFigures(figures: readonly Figure[]): Figure {
  let y = 0;
  const parts: string[] = [];
  for (const f of figures) {
    parts.push(el('g', { transform: `translate(0 ${num(y)})` }, `\n${f.body}\n`));
    y += f.height;
  }
  return { width: Math.max(0, ...figures.map((f) => f.width)), height: y, body: parts.join('\n') };
}

export function figureToPng(f: Figure): Promise<Buffer> {
  return sharp(Buffer.from(svgDocument(f)))
    .png()
    .toBuffer();
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, (h) => writeAll(h, bytes));
}

/** Write `file` (a .png) and the SVG it was drawn from beside it (the same name, .svg); returns both paths. */
export async function writeFigure(f: Figure, file: string): Promise<{ png: string; svg: string }> {
  if (!file.endsWith('.png')) throw new Error(`writeFigure: ${file} does not end in .png`);
  const svg = `${file.slice(0, -'.png'.length)}.svg`;
  const markup = svgDocument(f);
  await writeAtomic(svg, Buffer.from(markup));
  await writeAtomic(file, await sharp(Buffer.from(markup)).png().toBuffer());
  return { png: file, svg };
}
