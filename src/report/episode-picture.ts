/**
 * Pictures of episodes: the photo, the ground truth's outline (green), the final mask (blue tint),
 * the initial prompts P0 as small squares, and the agent's clicks as discs numbered in order,
 * coloured by label (green positive, red negative). Small images are enlarged so the numbers fit.
 * The photo and mask are composited per pixel; the marks and text are SVG drawn over them.
 */
import sharp from 'sharp';
import type { RgbImage } from '../data/types';
import { renderEpisode } from '../env/prompt/render';
import type { EpisodePicture } from '../eval/evaluate';
import { COLORS } from './palette';
import { el, svgDocument, text, textWidth } from './svg';

const WHITE = { r: 255, g: 255, b: 255 };

/** Scale factor that brings the shorter side to at least `minSide` pixels. */
function scaleFor(width: number, height: number, minSide: number): number {
  return Math.max(1, Math.ceil(minSide / Math.min(width, height)));
}

async function toRgbImage(image: sharp.Sharp): Promise<RgbImage> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

function raw(image: RgbImage): { input: Buffer; raw: { width: number; height: number; channels: 3 } } {
  return {
    input: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length),
    raw: { width: image.width, height: image.height, channels: 3 },
  };
}

export async function drawEpisode(
  p: EpisodePicture,
  opts: { minSide?: number; caption?: string } = {},
): Promise<RgbImage> {
  const { sample } = p;
  const s = scaleFor(sample.width, sample.height, opts.minSide ?? 256);
  const captionH = opts.caption ? 18 : 0;
  const width = sample.width * s;
  const height = sample.height * s + captionH;
  const base = renderEpisode(sample, p.mask, [], []);
  const enlarged = await sharp(raw(base).input, { raw: raw(base).raw })
    .resize(width, sample.height * s, { kernel: 'nearest' })
    .extend({ top: captionH, background: WHITE })
    .raw()
    .toBuffer();

  const marks: string[] = [];
  if (opts.caption) marks.push(text(4, captionH / 2, opts.caption, { size: 11 }));
  for (let k = 0; k < p.labels.length; k++) {
    const x = p.pointsXY[2 * k] * s;
    const y = p.pointsXY[2 * k + 1] * s + captionH;
    const color = p.labels[k] === 1 ? COLORS.positive : COLORS.negative;
    if (k < p.initialCount) {
      marks.push(
        el('rect', {
          x: x - 4.5,
          y: y - 4.5,
          width: 9,
          height: 9,
          fill: color,
          stroke: COLORS.white,
          'stroke-width': 1.5,
        }),
      );
      continue;
    }
    const n = String(k - p.initialCount + 1);
    marks.push(
      el('circle', { cx: x, cy: y, r: n.length > 1 ? 9 : 8, fill: color, stroke: COLORS.white, 'stroke-width': 1.5 }),
      text(x, y, n, { size: 11, anchor: 'middle', color: COLORS.white, weight: 'bold' }),
    );
  }
  const overlay = svgDocument({ width, height, body: marks.join('\n') }, null);
  return toRgbImage(
    sharp(enlarged, { raw: { width, height, channels: 3 } }).composite([
      { input: Buffer.from(overlay), left: 0, top: 0 },
    ]),
  );
}

const KEY = [
  'green outline: ground truth; blue: the mask',
  'discs: clicks in order (green +, red \u2212); squares: initial prompts P0',
];

/** Several episode pictures side by side in rows of `columns`, with a title and a key above. */
export async function contactSheet(pictures: readonly RgbImage[], title: string, columns = 3): Promise<RgbImage> {
  const gap = 8;
  if (pictures.length === 0) {
    const f = { width: 360, height: 60, body: text(180, 30, `${title}: no episodes`, { anchor: 'middle', size: 13 }) };
    return toRgbImage(sharp(Buffer.from(svgDocument(f))));
  }
  const cw = Math.max(...pictures.map((p) => p.width));
  const ch = Math.max(...pictures.map((p) => p.height));
  const cols = Math.min(columns, pictures.length);
  const rows = Math.ceil(pictures.length / cols);
  const head = 60;
  const keyWidth = Math.ceil(Math.max(textWidth(title, 16), ...KEY.map((k) => textWidth(k, 11)))) + 2 * gap;
  const width = Math.max(cols * cw + (cols + 1) * gap, keyWidth);
  const height = head + rows * (ch + gap);
  const header = [
    text(gap, 14, title, { size: 16, weight: 'bold' }),
    ...KEY.map((k, i) => text(gap, 34 + i * 15, k, { size: 11, color: COLORS.axis })),
  ];
  const sheet = sharp({ create: { width, height, channels: 3, background: WHITE } }).composite([
    { input: Buffer.from(svgDocument({ width, height: head, body: header.join('\n') })), left: 0, top: 0 },
    ...pictures.map((p, i) => ({
      ...raw(p),
      left: gap + (i % cols) * (cw + gap),
      top: head + Math.floor(i / cols) * (ch + gap),
    })),
  ]);
  return toRgbImage(sheet);
}
