/**
 * Pictures of episodes: the photo, the ground truth's outline (green), the final mask (blue tint),
 * the initial prompts P0 as small squares, and the agent's clicks as discs numbered in order,
 * coloured by label (green positive, red negative). Small images are enlarged so the numbers fit.
 */
import { renderEpisode } from '../env/prompt/render';
import type { EpisodePicture } from '../eval/evaluate';
import { textWidth } from './font';
import { Canvas, COLORS } from './raster';

/** Scale factor that brings the shorter side to at least `minSide` pixels. */
function scaleFor(width: number, height: number, minSide: number): number {
  return Math.max(1, Math.ceil(minSide / Math.min(width, height)));
}

export function drawEpisode(p: EpisodePicture, opts: { minSide?: number; caption?: string } = {}): Canvas {
  const { sample } = p;
  const base = renderEpisode(sample, p.mask, [], []);
  const s = scaleFor(sample.width, sample.height, opts.minSide ?? 256);
  const captionH = opts.caption ? 14 : 0;
  const c = new Canvas(sample.width * s, sample.height * s + captionH);
  c.blit(base, 0, captionH, s);
  if (opts.caption) c.label(3, 7, opts.caption);
  const radius = 8;
  for (let k = 0; k < p.labels.length; k++) {
    const x = p.pointsXY[2 * k] * s;
    const y = p.pointsXY[2 * k + 1] * s + captionH;
    const color = p.labels[k] === 1 ? COLORS.positive : COLORS.negative;
    if (k < p.initialCount) {
      c.fillRect(x - 5, y - 5, 10, 10, COLORS.white);
      c.fillRect(x - 4, y - 4, 8, 8, color);
      continue;
    }
    const n = String(k - p.initialCount + 1);
    const r = n.length > 1 ? radius + 1 : radius;
    c.disc(x, y, r + 1.5, COLORS.white);
    c.disc(x, y, r, color);
    c.label(x - textWidth(n) / 2 + 0.5, y + 0.5, n, { color: COLORS.white });
  }
  return c;
}

/** Several episode pictures side by side in rows of `columns`, with a title above. */
export function contactSheet(pictures: readonly Canvas[], title: string, columns = 3): Canvas {
  if (pictures.length === 0) {
    const c = new Canvas(320, 60);
    c.label(160, 30, `${title}: NO EPISODES`, { align: 'center' });
    return c;
  }
  const cw = Math.max(...pictures.map((p) => p.width));
  const ch = Math.max(...pictures.map((p) => p.height));
  const gap = 8;
  const cols = Math.min(columns, pictures.length);
  const rows = Math.ceil(pictures.length / cols);
  const head = 44;
  const c = new Canvas(cols * cw + (cols + 1) * gap, head + rows * (ch + gap));
  c.label(gap, 12, title, { scale: 2 });
  c.label(gap, 32, 'GREEN OUTLINE: GROUND TRUTH  BLUE: MASK  DISCS: CLICKS IN ORDER (GREEN +, RED -)  SQUARES: INITIAL PROMPTS', { color: COLORS.axis });
  pictures.forEach((p, i) => {
    const x = gap + (i % cols) * (cw + gap);
    const y = head + Math.floor(i / cols) * (ch + gap);
    for (let yy = 0; yy < p.height; yy++) for (let xx = 0; xx < p.width; xx++) c.setPixel(x + xx, y + yy, p.getPixel(xx, yy));
  });
  return c;
}
