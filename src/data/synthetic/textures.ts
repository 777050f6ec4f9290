/**
 * Procedural textures in image coordinates. A texture is described by plain data (TextureSpec, so
 * scenes can be stored and compared) and compiled once per scene into a colour function.
 */
import { Rng } from '../../utils/rng';

// Aliases, not `Math.x`: under jest (a vm context) each global lookup in a hot loop costs ~100x.
const { ceil, cos, floor, hypot, max, min, round, sin } = Math;

export const TEXTURE_KINDS = ['flat', 'gradient', 'stripes', 'checker', 'noise'] as const;
export type TextureKind = (typeof TEXTURE_KINDS)[number];

export function isTextureKind(v: unknown): v is TextureKind {
  return typeof v === 'string' && (TEXTURE_KINDS as readonly string[]).includes(v);
}

export type Rgb = [number, number, number];

export interface TextureSpec {
  kind: TextureKind;
  /** Flat uses colorA only; the others blend or alternate colorA and colorB. */
  colorA: Rgb;
  colorB: Rgb;
  /** Radians: direction of gradient, stripes and checker axes. */
  angle: number;
  /** Pixels: stripe period, checker cell, noise cell, gradient length. */
  scale: number;
  /** Offset along the pattern, in pixels (shifts stripes/checker, moves the gradient). */
  phase: number;
  /** Seeds the noise lattice. */
  noiseSeed: number;
}

/**
 * Writes the texture's RGB at the pixel centres of row `y`, columns [x0, x1), into `out` from
 * `offset` on (three values per pixel). Whole rows at a time keep per-pixel overhead low.
 */
export type TextureFill = (y: number, x0: number, x1: number, out: Float64Array, offset: number) => void;

export function compileTexture(spec: TextureSpec, width: number, height: number): TextureFill {
  const [ar, ag, ab] = spec.colorA;
  const dr = spec.colorB[0] - ar;
  const dg = spec.colorB[1] - ag;
  const db = spec.colorB[2] - ab;
  const cosA = cos(spec.angle);
  const sinA = sin(spec.angle);
  const s = max(1, spec.scale);
  // Each kind maps a pixel centre to a blend weight t in [0, 1] between colour A and colour B.
  const rowFill =
    (weight: (px: number, py: number) => number): TextureFill =>
    (y, x0, x1, out, offset) => {
      const py = y + 0.5;
      for (let x = x0, o = offset; x < x1; x++, o += 3) {
        const t = weight(x + 0.5, py);
        out[o] = ar + dr * t;
        out[o + 1] = ag + dg * t;
        out[o + 2] = ab + db * t;
      }
    };
  switch (spec.kind) {
    case 'flat':
      return (_y, x0, x1, out, offset) => {
        for (let x = x0, o = offset; x < x1; x++, o += 3) {
          out[o] = ar;
          out[o + 1] = ag;
          out[o + 2] = ab;
        }
      };
    case 'gradient': {
      const cx = width / 2;
      const cy = height / 2;
      return rowFill((px, py) => {
        const t = ((px - cx) * cosA + (py - cy) * sinA + spec.phase) / s + 0.5;
        return t < 0 ? 0 : t > 1 ? 1 : t;
      });
    }
    case 'stripes':
      return rowFill((px, py) => {
        const u = (px * cosA + py * sinA + spec.phase) / s;
        return u - floor(u) < 0.5 ? 0 : 1;
      });
    case 'checker':
      return rowFill((px, py) => {
        const u = floor((px * cosA + py * sinA + spec.phase) / s);
        const v = floor((-px * sinA + py * cosA + spec.phase) / s);
        return (u + v) & 1;
      });
    case 'noise': {
      // Value noise: random values on a lattice of cell `scale`, smoothly interpolated.
      const nx = ceil(width / s) + 2;
      const ny = ceil(height / s) + 2;
      const lattice = new Float64Array(nx * ny);
      const rng = new Rng(spec.noiseSeed);
      for (let i = 0; i < lattice.length; i++) lattice[i] = rng.random();
      return rowFill((px, py) => {
        const gx = px / s;
        const gy = py / s;
        const ix = min(nx - 2, max(0, floor(gx)));
        const iy = min(ny - 2, max(0, floor(gy)));
        const fx = smooth(gx - ix);
        const fy = smooth(gy - iy);
        const i00 = lattice[iy * nx + ix];
        const i10 = lattice[iy * nx + ix + 1];
        const i01 = lattice[(iy + 1) * nx + ix];
        const i11 = lattice[(iy + 1) * nx + ix + 1];
        const top = i00 + (i10 - i00) * fx;
        const bottom = i01 + (i11 - i01) * fx;
        return top + (bottom - top) * fy;
      });
    }
  }
}

function smooth(t: number): number {
  const c = t < 0 ? 0 : t > 1 ? 1 : t;
  return c * c * (3 - 2 * c);
}

/** A random texture of `kind` for an image of the given size. */
export function randomTexture(rng: Rng, kind: TextureKind, minSide: number): TextureSpec {
  const colorA = randomColor(rng);
  const colorB = randomColor(rng);
  const scaleRange: Record<TextureKind, [number, number]> = {
    flat: [1, 1],
    gradient: [0.6, 1.4],
    stripes: [0.05, 0.14],
    checker: [0.05, 0.14],
    noise: [0.08, 0.25],
  };
  const [lo, hi] = scaleRange[kind];
  return {
    kind,
    colorA,
    colorB,
    angle: rng.uniform(0, Math.PI),
    scale: max(2, rng.uniform(lo, hi) * minSide),
    phase: rng.uniform(0, minSide),
    noiseSeed: rng.nextUint32(),
  };
}

export function randomColor(rng: Rng): Rgb {
  return [rng.int(256), rng.int(256), rng.int(256)];
}

/** The texture's average colour (half A, half B except flat), for contrast checks. */
export function meanColor(spec: TextureSpec): Rgb {
  if (spec.kind === 'flat') return spec.colorA;
  return [0, 1, 2].map((c) => (spec.colorA[c] + spec.colorB[c]) / 2) as Rgb;
}

export function colorDistance(a: Rgb, b: Rgb): number {
  return hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * A texture like `background` (same kind and colours) moved and shifted in brightness by
 * `contrast` (a fraction of 255): what a camouflaged target wears.
 */
export function camouflageOf(rng: Rng, background: TextureSpec, contrast: number): TextureSpec {
  // Shift away from the nearer end of the range, so that clamping does not undo the shift.
  const brightness = (meanColor(background).reduce((a, v) => a + v, 0) / 3) | 0;
  const coin = rng.random() < 0.5 ? -1 : 1;
  const sign = brightness > 160 ? -1 : brightness < 95 ? 1 : coin;
  const shift = (c: Rgb): Rgb => c.map((v) => max(0, min(255, round(v + sign * contrast * 255)))) as Rgb;
  return {
    ...background,
    colorA: shift(background.colorA),
    colorB: shift(background.colorB),
    angle: background.angle + rng.uniform(-0.6, 0.6),
    phase: background.phase + rng.uniform(0.25, 0.75) * background.scale,
    noiseSeed: rng.nextUint32(),
  };
}
