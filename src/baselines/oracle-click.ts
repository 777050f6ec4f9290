/**
 * The click simulator of interactive segmentation benchmarks (after Xu et al. 2016 and the
 * RITM / `get_next_points` protocol, made deterministic): the next click goes to the pixel deepest
 * inside the largest error region, positive when that region is missed target (false negative),
 * negative when it is wrongly included background (false positive).
 */
import { connectedComponents } from './connected-components';
import { distanceTransform } from './distance-transform';
import { iou } from '../metrics/segmentation';

export interface OracleClick {
  /** Pixel column and row in the mask grid (integers; the pixel's centre is x + 0.5, y + 0.5). */
  x: number;
  y: number;
  /** 1 positive (on a false-negative region), 0 negative (on a false-positive region). */
  label: 0 | 1;
  /** Distance of the click to the region's boundary, in pixels. */
  distance: number;
  /** Pixel count of the chosen error region. */
  regionArea: number;
}

export interface OracleClickOptions {
  /**
   * Which error region to click: 'area' (default) the largest connected error region by pixel
   * count; 'distance' the region holding the pixel farthest from any boundary (RITM compares the
   * FN and FP distance maxima this way).
   */
  regionBy?: 'area' | 'distance';
  /** Connectivity of error regions (default 8). */
  connectivity?: 4 | 8;
  /** Count the image edge as region boundary (default true, RITM's padding). */
  imageBorderIsBackground?: boolean;
}

/**
 * The next oracle click for prediction `pred` of ground truth `gt` (binary, H x W row-major,
 * non-zero = foreground), or null when they agree everywhere. The click is the region's pixel
 * farthest from its boundary; among equally deep pixels, the one nearest their centroid (then the
 * first in raster order). Equal regions (by area or depth) go to the false negative. A click is a
 * pure function of its inputs (RITM instead draws at random among pixels deeper than half the
 * maximum).
 */
export function nextOracleClick(
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  height: number,
  width: number,
  options: OracleClickOptions = {},
): OracleClick | null {
  const n = height * width;
  if (gt.length !== n || pred.length !== n) {
    throw new Error(
      `nextOracleClick: gt has ${gt.length} and pred ${pred.length} pixels, ${height} x ${width} = ${n} expected`,
    );
  }
  const connectivity = options.connectivity ?? 8;
  const border = { imageBorderIsBackground: options.imageBorderIsBackground ?? true };
  const fn = new Uint8Array(n);
  const fp = new Uint8Array(n);
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const g = gt[i] !== 0;
    const p = pred[i] !== 0;
    if (g && !p) fn[i] = 1;
    else if (p && !g) fp[i] = 1;
    else continue;
    errors++;
  }
  if (errors === 0) return null;

  const kinds = [
    { mask: fn, label: 1 as const },
    { mask: fp, label: 0 as const },
  ];
  // Typed by assertion: `best` is set inside `consider`, which plain narrowing would not see.
  let best = null as {
    mask: Uint8Array;
    label: 0 | 1;
    component: number;
    labels: Int32Array;
    area: number;
    score: number;
  } | null;
  /** Keep component c of an error kind when it scores higher than the best so far. */
  const consider = (
    kind: (typeof kinds)[number],
    cc: { labels: Int32Array; areas: ArrayLike<number> },
    c: number,
    score: number,
  ) => {
    if (best === null || score > best.score)
      best = { mask: kind.mask, label: kind.label, component: c, labels: cc.labels, area: cc.areas[c], score };
  };
  for (const kind of kinds) {
    const cc = connectedComponents(kind.mask, height, width, connectivity);
    if (cc.count === 0) continue;
    if ((options.regionBy ?? 'area') === 'area') {
      for (let c = 1; c <= cc.count; c++) consider(kind, cc, c, cc.areas[c]);
    } else {
      // Distances within one error kind: its regions are separated by non-error pixels, so one
      // transform of the whole kind mask gives each region's own interior distances.
      const dt = distanceTransform(kind.mask, height, width, border);
      let arg = -1;
      for (let i = 0; i < n; i++) if (kind.mask[i] && (arg < 0 || dt[i] > dt[arg])) arg = i;
      consider(kind, cc, cc.labels[arg], dt[arg]);
    }
  }
  if (best === null) return null;

  const region = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (best.labels[i] === best.component) region[i] = 1;
  const dt = distanceTransform(region, height, width, border);
  const arg = deepestPixel(region, dt, width);
  const y = Math.floor(arg / width);
  return { x: arg - y * width, y, label: best.label, distance: dt[arg], regionArea: best.area };
}

/**
 * The pixel of maximal distance; among several (a bar has a ridge of them), the one nearest the
 * centroid of the maxima, then the first in raster order: the middle of the ridge, not its end.
 */
function deepestPixel(region: Uint8Array, dt: Float32Array, width: number): number {
  let max = -1;
  for (let i = 0; i < region.length; i++) if (region[i] && dt[i] > max) max = dt[i];
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (let i = 0; i < region.length; i++) {
    if (region[i] && dt[i] === max) {
      sx += i % width;
      sy += Math.floor(i / width);
      count++;
    }
  }
  const cx = sx / count;
  const cy = sy / count;
  let arg = -1;
  let bestD2 = Infinity;
  for (let i = 0; i < region.length; i++) {
    if (!region[i] || dt[i] !== max) continue;
    const d2 = ((i % width) - cx) ** 2 + (Math.floor(i / width) - cy) ** 2;
    if (d2 < bestD2) {
      bestD2 = d2;
      arg = i;
    }
  }
  return arg;
}

/** A segmenter under test: the mask (H x W, binary) it predicts from the clicks so far. */
export type ClickSegmenter = (clicks: readonly OracleClick[]) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface OracleRunOptions extends OracleClickOptions {
  /** Click budget. Default 20. */
  maxClicks?: number;
  /** Stop once IoU reaches this. Default: never stop early. */
  stopAtIou?: number;
  /** The mask before any click (default empty). */
  initialPred?: ArrayLike<number>;
}

export interface OracleRun {
  clicks: OracleClick[];
  /** IoU after each click: ious[k - 1] after k clicks. */
  ious: number[];
}

/**
 * Plays the oracle against a segmenter: click, re-segment with all clicks, repeat. Stops at the
 * budget, at `stopAtIou`, or when the prediction equals the ground truth.
 */
export async function runOracleClicks(
  gt: ArrayLike<number>,
  height: number,
  width: number,
  segmenter: ClickSegmenter,
  options: OracleRunOptions = {},
): Promise<OracleRun> {
  const maxClicks = options.maxClicks ?? 20;
  let pred: ArrayLike<number> = options.initialPred ?? new Uint8Array(height * width);
  const clicks: OracleClick[] = [];
  const ious: number[] = [];
  while (clicks.length < maxClicks) {
    const click = nextOracleClick(gt, pred, height, width, options);
    if (click === null) break;
    clicks.push(click);
    pred = await segmenter(clicks);
    if (pred.length !== height * width)
      throw new Error(`runOracleClicks: the segmenter returned ${pred.length} pixels, ${height * width} expected`);
    ious.push(iou(pred, gt));
    if (options.stopAtIou !== undefined && ious[ious.length - 1] >= options.stopAtIou) break;
  }
  return { clicks, ious };
}
