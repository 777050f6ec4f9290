/** Colours of the report pictures and plot series. */

export const COLORS = {
  white: '#ffffff',
  text: '#1e1e1e',
  axis: '#3c3c3c',
  grid: '#e1e1e1',
  positive: '#1ec832',
  negative: '#e62828',
} as const;

/**
 * Series colours, distinct on white: Okabe-Ito's colour-blind-safe set (without its yellow) first,
 * then darker and duller hues that stay apart from those.
 */
export const PALETTE: readonly string[] = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
  '#882255',
  '#999933',
  '#332288',
  '#7f7f7f',
  '#8c564b',
];

/** `n` different colours: the palette, or, for more series than it holds, `n` evenly spaced hues. */
export function seriesColors(n: number): string[] {
  if (n <= PALETTE.length) return PALETTE.slice(0, n);
  return Array.from({ length: n }, (_, i) => hslToHex((360 * i) / n, 0.7, i % 2 === 0 ? 0.4 : 0.55));
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (k: number) => {
    const t = (k + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** '#rrggbb' as [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`rgbOf: '${hex}' is not #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}
