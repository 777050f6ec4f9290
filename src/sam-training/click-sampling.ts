/**
 * Prompt simulation for SAM-style interactive training (Kirillov et al. 2023, §A): the first
 * prompt is a foreground point drawn uniformly from the ground truth or the ground truth's box
 * with noise; each corrective click lands in the error region of the current prediction, either
 * uniformly at random or at the oracle's point (the deepest pixel of the largest error region,
 * which is what evaluation uses). Everything works on one pixel grid (the low-res frame in
 * training) and returns pixel indices; callers map them to their coordinate frame.
 */
import { nextOracleClick } from '../baselines/oracle-click';
import type { Rng } from '../utils/rng';

export interface GridClick {
  x: number;
  y: number;
  label: 0 | 1;
}

/** A uniformly random foreground pixel; throws on an empty mask. */
export function randomForegroundClick(mask: Uint8Array, width: number, rng: Rng): GridClick {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  if (count === 0) throw new Error('randomForegroundClick: the mask is empty');
  let k = rng.int(count);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && k-- === 0) return { x: i % width, y: Math.floor(i / width), label: 1 };
  }
  throw new Error('unreachable');
}

/** Tight box (x0, y0, x1, y1) around the mask, in pixel-edge coordinates; null when empty. */
export function maskBox(mask: Uint8Array, width: number, height: number): [number, number, number, number] | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/**
 * The box with each coordinate moved by normal noise of std `noise` times the box side (SAM: 10%,
 * at most 20 px), clamped to the image.
 */
export function jitterBox(
  box: [number, number, number, number],
  width: number,
  height: number,
  rng: Rng,
  noise = 0.1,
): [number, number, number, number] {
  const bw = box[2] - box[0];
  const bh = box[3] - box[1];
  const j = (v: number, side: number, lim: number) =>
    Math.min(lim, Math.max(0, v + Math.max(-0.2 * side, Math.min(0.2 * side, rng.normal(0, noise * side)))));
  const x0 = j(box[0], bw, width);
  const y0 = j(box[1], bh, height);
  const x1 = j(box[2], bw, width);
  const y1 = j(box[3], bh, height);
  return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
}

/**
 * A corrective click on the error region of `pred` against `gt`: with probability `oracleProb` the
 * oracle's click, else a uniformly random error pixel (positive on a miss, negative on a false
 * alarm). With no error left, a random foreground click.
 */
export function correctiveClick(
  gt: Uint8Array,
  pred: Uint8Array,
  width: number,
  height: number,
  rng: Rng,
  oracleProb = 0.5,
): GridClick {
  if (rng.random() < oracleProb) {
    const c = nextOracleClick(gt, pred, height, width);
    return c ? { x: c.x, y: c.y, label: c.label } : randomForegroundClick(gt, width, rng);
  }
  let errors = 0;
  for (let i = 0; i < gt.length; i++) if ((gt[i] !== 0) !== (pred[i] !== 0)) errors++;
  if (errors === 0) return randomForegroundClick(gt, width, rng);
  let k = rng.int(errors);
  for (let i = 0; i < gt.length; i++) {
    if ((gt[i] !== 0) !== (pred[i] !== 0) && k-- === 0)
      return { x: i % width, y: Math.floor(i / width), label: gt[i] ? 1 : 0 };
  }
  throw new Error('unreachable');
}

/** Average-pool a binary mask by an integer factor and threshold at one half. */
export function downsampleMask(mask: Uint8Array, width: number, height: number, factor: number): Uint8Array {
  if (width % factor !== 0 || height % factor !== 0)
    throw new Error(`downsampleMask: ${width}x${height} is not divisible by ${factor}`);
  const w = width / factor;
  const h = height / factor;
  const out = new Uint8Array(w * h);
  const half = (factor * factor) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < factor; dy++)
        for (let dx = 0; dx < factor; dx++) if (mask[(y * factor + dy) * width + x * factor + dx]) s++;
      out[y * w + x] = s >= half ? 1 : 0;
    }
  }
  return out;
}
