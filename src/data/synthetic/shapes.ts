/**
 * Named shapes as signed distance functions in pixel units (negative inside). A pixel belongs to a
 * shape when the distance at its centre is negative; the distance also gives cheap anti-aliasing
 * (coverage = clamp(0.5 - d, 0, 1)), which is above one half exactly where the pixel belongs.
 */

// Aliases, not `Math.x`: under jest (a vm context) each global lookup in a hot loop costs ~100x.
const { abs, ceil, cos, floor, max, min, sin, sqrt } = Math;

export const SHAPE_NAMES = ['star', 'circle', 'square', 'triangle', 'ring', 'cross', 'ellipse', 'hexagon'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export function isShapeName(v: unknown): v is ShapeName {
  return typeof v === 'string' && (SHAPE_NAMES as readonly string[]).includes(v);
}

/** Where and how big: plain data, so a scene can be stored and redrawn. */
export interface ShapePlacement {
  shape: ShapeName;
  /** Centre in pixels (x right, y down). */
  cx: number;
  cy: number;
  /** Outer radius in pixels: the shape fits in the circle of this radius around the centre. */
  radius: number;
  /** Radians. */
  rotation: number;
  /** Minor/major axis ratio, for ellipses (ignored by the others). */
  aspect: number;
}

export interface Shape {
  readonly placement: ShapePlacement;
  /** Integer pixel bounds [x0, y0, x1, y1) that contain every pixel the shape can touch. */
  readonly bounds: [number, number, number, number];
  /** Radius of a circle around the centre that lies inside the shape (0 when none does). */
  readonly innerRadius: number;
  /** Signed distance (pixels) from point (x, y) to the outline; negative inside. */
  distance(x: number, y: number): number;
}

/** Radius of the largest centred circle inside each shape, as a fraction of the outer radius. */
function innerFraction(p: ShapePlacement): number {
  switch (p.shape) {
    case 'circle':
      return 1;
    case 'ring':
      return 0;
    case 'ellipse':
      return p.aspect;
    case 'square':
      return 1 / Math.SQRT2;
    case 'cross':
      return 0.3;
    case 'triangle':
      return 0.5;
    case 'hexagon':
      return cos(Math.PI / 6);
    case 'star':
      return 0.45 * cos(Math.PI / 5);
  }
}

type LocalSdf = (u: number, v: number) => number;

/** A shape's distance in its own frame (centred, unrotated). */
function localSdf(p: ShapePlacement): LocalSdf {
  const r = p.radius;
  switch (p.shape) {
    case 'circle':
      return (u, v) => sqrt(u * u + v * v) - r;
    case 'ring': {
      const mid = 0.72 * r;
      const half = 0.28 * r;
      return (u, v) => abs(sqrt(u * u + v * v) - mid) - half;
    }
    case 'ellipse': {
      const a = r;
      const b = r * p.aspect;
      // Scaled-circle distance: exact sign, distance approximate (good enough for anti-aliasing).
      return (u, v) => {
        const su = u / a;
        const sv = v / b;
        return (sqrt(su * su + sv * sv) - 1) * b;
      };
    }
    case 'square': {
      const h = r / Math.SQRT2;
      return (u, v) => boxSdf(u, v, h, h);
    }
    case 'cross': {
      const arm = 0.95 * r;
      const w = 0.3 * r;
      return (u, v) => min(boxSdf(u, v, arm, w), boxSdf(u, v, w, arm));
    }
    case 'triangle':
      return polygonSdf(regularPolygon(3, r, -Math.PI / 2));
    case 'hexagon':
      return polygonSdf(regularPolygon(6, r, 0));
    case 'star':
      return polygonSdf(starPolygon(5, r, 0.45 * r));
  }
}

function boxSdf(u: number, v: number, hx: number, hy: number): number {
  const dx = abs(u) - hx;
  const dy = abs(v) - hy;
  const ox = max(dx, 0);
  const oy = max(dy, 0);
  return sqrt(ox * ox + oy * oy) + min(max(dx, dy), 0);
}

function regularPolygon(n: number, r: number, phase: number): Float64Array {
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = phase + (2 * Math.PI * i) / n;
    xy[2 * i] = r * cos(a);
    xy[2 * i + 1] = r * sin(a);
  }
  return xy;
}

function starPolygon(points: number, outer: number, inner: number): Float64Array {
  const n = 2 * points;
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = -Math.PI / 2 + (Math.PI * i) / points;
    const rr = i % 2 === 0 ? outer : inner;
    xy[2 * i] = rr * cos(a);
    xy[2 * i + 1] = rr * sin(a);
  }
  return xy;
}

/** Distance to the nearest edge, negative when inside by the even-odd rule (any simple polygon). */
function polygonSdf(xy: Float64Array): LocalSdf {
  const n = xy.length / 2;
  return (u, v) => {
    let best = Number.POSITIVE_INFINITY; // (looked up once per call, not per edge)
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = xy[2 * i];
      const yi = xy[2 * i + 1];
      const xj = xy[2 * j];
      const yj = xy[2 * j + 1];
      const ex = xj - xi;
      const ey = yj - yi;
      const wx = u - xi;
      const wy = v - yi;
      const t = max(0, min(1, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
      const dx = wx - ex * t;
      const dy = wy - ey * t;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
      if (yi > v !== yj > v && u < (ex * (v - yi)) / ey + xi) inside = !inside;
    }
    const d = sqrt(best);
    return inside ? -d : d;
  };
}

export function makeShape(p: ShapePlacement, width: number, height: number): Shape {
  const sdf = localSdf(p);
  const cosA = cos(p.rotation);
  const sinA = sin(p.rotation);
  const reach = p.radius + 1; // one extra pixel for the anti-aliased rim
  const bounds: [number, number, number, number] = [
    max(0, floor(p.cx - reach)),
    max(0, floor(p.cy - reach)),
    min(width, ceil(p.cx + reach) + 1),
    min(height, ceil(p.cy + reach) + 1),
  ];
  return {
    placement: p,
    bounds,
    innerRadius: innerFraction(p) * p.radius,
    distance(x, y) {
      const dx = x - p.cx;
      const dy = y - p.cy;
      // Into the shape's frame: rotate by -rotation (screen y points down, so the sign flips).
      return sdf(cosA * dx - sinA * dy, sinA * dx + cosA * dy);
    },
  };
}
