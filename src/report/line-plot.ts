/**
 * Line plots for run reports: axes with "nice" ticks, grid lines, a title, axis titles, a legend,
 * one polyline per series (optionally with markers).
 */
import { textWidth } from './font';
import { Canvas, COLORS, PALETTE, Rgb } from './raster';

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: Rgb;
  markers?: boolean;
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for IoU); default: from the data. */
  yRange?: [number, number];
  xRange?: [number, number];
  /** Text drawn when no series has points. */
  emptyText?: string;
}

/** Ticks at 1, 2 or 5 times a power of ten, about `count` of them, covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Short tick text: 12000 -> 12K, 0.25 -> 0.25, 1.5e-4 -> 1.5E-4. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}K`;
  if (a < 1e-3) return v.toExponential(1).toUpperCase();
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return fallback;
  return [Math.min(...finite), Math.max(...finite)];
}

export function linePlot(opts: PlotOptions): Canvas {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const c = new Canvas(width, height);
  const left = 64;
  const right = 16;
  const top = 34;
  const bottom = 48;
  const pw = width - left - right;
  const ph = height - top - bottom;
  c.label(width / 2, 16, opts.title, { align: 'center', scale: 2 });
  c.label(left + pw / 2, height - 12, opts.xLabel, { align: 'center' });
  c.verticalLabel(12, top + ph / 2, opts.yLabel);

  const all = opts.series.flatMap((s) => s.points);
  if (all.length === 0) {
    c.strokeRect(left, top, pw, ph, COLORS.grid);
    c.label(left + pw / 2, top + ph / 2, opts.emptyText ?? 'NO DATA', { align: 'center', color: COLORS.axis });
    return c;
  }
  let [x0, x1] = opts.xRange ?? extent(all.map((p) => p[0]), [0, 1]);
  let [y0, y1] = opts.yRange ?? extent(all.map((p) => p[1]), [0, 1]);
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (!opts.yRange) {
    const pad = y1 === y0 ? Math.max(1e-3, Math.abs(y0) * 0.1) : (y1 - y0) * 0.05;
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const xTicks = niceTicks(x0, x1, 6);
  const yTicks = niceTicks(y0, y1, 5);
  if (!opts.xRange && xTicks.length > 0) [x0, x1] = [Math.min(x0, xTicks[0]), Math.max(x1, xTicks[xTicks.length - 1])];
  if (!opts.yRange && yTicks.length > 0) [y0, y1] = [Math.min(y0, yTicks[0]), Math.max(y1, yTicks[yTicks.length - 1])];
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const py = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;

  for (const t of yTicks) {
    const y = Math.round(py(t));
    c.line(left, y, left + pw, y, COLORS.grid);
    c.line(left - 4, y, left, y, COLORS.axis);
    c.label(left - 7, y, formatTick(t), { align: 'right' });
  }
  for (const t of xTicks) {
    const x = Math.round(px(t));
    c.line(x, top, x, top + ph, COLORS.grid);
    c.line(x, top + ph, x, top + ph + 4, COLORS.axis);
    c.label(x, top + ph + 12, formatTick(t), { align: 'center' });
  }
  c.line(left, top, left, top + ph, COLORS.axis);
  c.line(left, top + ph, left + pw, top + ph, COLORS.axis);

  opts.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])).map((p) => [px(p[0]), py(p[1])] as const);
    if (s.dashed) for (let k = 1; k < pts.length; k++) c.line(pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1], color, 2, 6);
    else c.polyline(pts, color, 2);
    if (s.markers) for (const [x, y] of pts) c.disc(x, y, 3.5, color);
  });

  // Legend, top left inside the plot, on a white box.
  const named = opts.series.filter((s) => s.name);
  if (named.length > 0) {
    const lw = Math.max(...named.map((s) => textWidth(s.name))) + 30;
    const lh = named.length * 12 + 6;
    const lx = left + 8;
    const ly = top + 6;
    c.fillRect(lx, ly, lw, lh, COLORS.white);
    c.strokeRect(lx, ly, lw, lh, COLORS.grid);
    opts.series.forEach((s, i) => {
      if (!s.name) return;
      const k = named.indexOf(s);
      const y = ly + 9 + k * 12;
      const color = s.color ?? PALETTE[i % PALETTE.length];
      c.line(lx + 5, y, lx + 19, y, color, 2, s.dashed ? 4 : 0);
      c.label(lx + 24, y, s.name);
    });
  }
  return c;
}
