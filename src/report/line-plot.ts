/**
 * Line plots as SVG: axes with "nice" ticks, grid lines, a title, axis titles, a legend to the
 * right of the plot area, one polyline per series in its own colour (optionally dashed, with markers).
 */
import { COLORS, seriesColors } from './palette';
import { el, Figure, num, text, textWidth } from './svg';

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** '#rrggbb'; default: the series' own colour from the palette. */
  color?: string;
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
  /** Width kept right of the plot area for the legend; default: what the longest name needs. */
  legendWidth?: number;
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

/** Short tick text: 12000 -> 12k, 0.25 -> 0.25, 1.5e-4 -> 1.5e-4. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a < 1e-3) return v.toExponential(1);
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

const TITLE_SIZE = 16;
const LABEL_SIZE = 12;
const TICK_SIZE = 11;

/** The width a legend of these series names takes (0 when none is named). */
export function legendWidthFor(names: readonly string[]): number {
  const named = names.filter((n) => n);
  return named.length > 0 ? Math.ceil(Math.max(...named.map((n) => textWidth(n, TICK_SIZE)))) + 40 : 0;
}

export function linePlot(opts: PlotOptions): Figure {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const colors = seriesColors(opts.series.length).map((c, i) => opts.series[i].color ?? c);
  const named = opts.series.map((s, i) => ({ s, color: colors[i] })).filter(({ s }) => s.name);
  const legendWidth = opts.legendWidth ?? legendWidthFor(opts.series.map((s) => s.name));
  const left = 68;
  const right = 16 + legendWidth;
  const top = 40;
  const bottom = 48;
  const pw = width - left - right;
  const ph = height - top - bottom;
  if (pw < 40 || ph < 40)
    throw new Error(
      `linePlot: ${width}x${height} leaves no room for the plot area (legend ${Math.round(legendWidth)} px wide)`,
    );
  const out: string[] = [
    text(width / 2, 20, opts.title, { size: TITLE_SIZE, anchor: 'middle', weight: 'bold' }),
    text(left + pw / 2, height - 14, opts.xLabel, { size: LABEL_SIZE, anchor: 'middle' }),
    text(16, top + ph / 2, opts.yLabel, { size: LABEL_SIZE, anchor: 'middle', rotate: -90 }),
  ];
  const frame = el('rect', { x: left, y: top, width: pw, height: ph, fill: 'none', stroke: COLORS.grid });

  const all = opts.series.flatMap((s) => s.points);
  if (all.length === 0) {
    out.push(
      frame,
      text(left + pw / 2, top + ph / 2, opts.emptyText ?? 'no data', { anchor: 'middle', color: COLORS.axis }),
    );
    return { width, height, body: out.join('\n') };
  }
  let [x0, x1] =
    opts.xRange ??
    extent(
      all.map((p) => p[0]),
      [0, 1],
    );
  let [y0, y1] =
    opts.yRange ??
    extent(
      all.map((p) => p[1]),
      [0, 1],
    );
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
  const line = (
    xa: number,
    ya: number,
    xb: number,
    yb: number,
    stroke: string,
    extra: Record<string, string | number | undefined> = {},
  ) => el('line', { x1: xa, y1: ya, x2: xb, y2: yb, stroke, ...extra });

  const grid: string[] = [];
  const ticks: string[] = [];
  for (const t of yTicks) {
    const y = py(t);
    grid.push(line(left, y, left + pw, y, COLORS.grid));
    ticks.push(
      line(left - 4, y, left, y, COLORS.axis),
      text(left - 7, y, formatTick(t), { size: TICK_SIZE, anchor: 'end' }),
    );
  }
  for (const t of xTicks) {
    const x = px(t);
    grid.push(line(x, top, x, top + ph, COLORS.grid));
    ticks.push(
      line(x, top + ph, x, top + ph + 4, COLORS.axis),
      text(x, top + ph + 14, formatTick(t), { size: TICK_SIZE, anchor: 'middle' }),
    );
  }
  out.push(el('g', { 'shape-rendering': 'crispEdges' }, grid.join('')));
  out.push(
    el(
      'g',
      { 'shape-rendering': 'crispEdges' },
      [
        line(left, top, left, top + ph, COLORS.axis),
        line(left, top + ph, left + pw, top + ph, COLORS.axis),
        ...ticks,
      ].join(''),
    ),
  );

  opts.series.forEach((s, i) => {
    const pts = s.points
      .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))
      .map((p) => [px(p[0]), py(p[1])] as const);
    if (pts.length === 0) return;
    const marks: string[] = [];
    if (pts.length > 1) {
      marks.push(
        el('polyline', {
          points: pts.map(([x, y]) => `${num(x)},${num(y)}`).join(' '),
          fill: 'none',
          stroke: colors[i],
          'stroke-width': 2,
          'stroke-linejoin': 'round',
          'stroke-dasharray': s.dashed ? '6 4' : undefined,
        }),
      );
    }
    // A lone point is drawn as a marker whatever `markers` says, or it would not show.
    if (s.markers || pts.length === 1)
      for (const [x, y] of pts) marks.push(el('circle', { cx: x, cy: y, r: 3.5, fill: colors[i] }));
    out.push(el('g', { class: 'series', 'data-name': s.name }, marks.join('')));
  });

  if (named.length > 0) {
    const lx = left + pw + 12;
    const items = named.map(({ s, color }, k) => {
      const y = top + 10 + k * 18;
      return (
        line(lx, y, lx + 22, y, color, { 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '6 4' : undefined }) +
        text(lx + 28, y, s.name, { size: TICK_SIZE })
      );
    });
    out.push(el('g', { class: 'legend' }, items.join('')));
  }
  return { width, height, body: out.join('\n') };
}
