/**
 * What a reward term sees after one env step. All masks share ONE low resolution, H x W row-major
 * (the env's reward grid, e.g. SAM's 256 x 256 low-res logits or the 64 x 64 embedding grid), so
 * terms cost O(H W) and never need full-size masks.
 */
import { diceFromCounts, iouFromCounts } from '../metrics/segmentation';
import { confusionCounts } from '../metrics/confusion';

export type PointXY = readonly [number, number];

export interface RewardContext {
  height: number;
  width: number;
  /** Ground truth, 1 = target. */
  gt: Uint8Array;
  /** Binary mask before this step's click (all zeros before the first mask). */
  prevMask: Uint8Array;
  /** Binary mask after this step's click. */
  mask: Uint8Array;
  /** Mask probabilities before/after, when the env has them (sigmoid of SAM's logits). */
  prevMaskProbs?: Float32Array;
  maskProbs?: Float32Array;
  /** The clicked point in this grid's pixel coordinates: x = column, y = row (may be fractional). */
  pointXY: PointXY;
  /** The clicked point normalised to [0, 1]: (x / width, y / height). */
  pointNorm: PointXY;
  /** The label given to the click: 1 positive, 0 negative. */
  label: 0 | 1;
  /** Whether the point lies in the ground-truth foreground (the env decides at full resolution). */
  pointInGt: boolean;
  /** 0-based index of this step in the episode. */
  step: number;
  /** Episode horizon T. */
  horizon: number;
  isLastStep: boolean;
  /** Earlier prompt points of the episode (initial prompts included), normalised, with labels. */
  earlierPointsNorm: readonly PointXY[];
  earlierLabels: readonly (0 | 1)[];
  /** The target's name when the task has one. */
  targetName?: string;
}

/** Scores derived from a context, computed on first use and shared by all terms of one step. */
export class MaskScores {
  private cache = new Map<string, number>();

  constructor(private readonly ctx: RewardContext) {}

  private memo(key: string, f: () => number): number {
    let v = this.cache.get(key);
    if (v === undefined) {
      v = f();
      this.cache.set(key, v);
    }
    return v;
  }

  /** IoU of `mask` with `gt` (both empty: 1). */
  get iou(): number {
    return this.memo('iou', () => iouFromCounts(confusionCounts(this.ctx.mask, this.ctx.gt)));
  }

  get prevIou(): number {
    return this.memo('prevIou', () => iouFromCounts(confusionCounts(this.ctx.prevMask, this.ctx.gt)));
  }

  get dice(): number {
    return this.memo('dice', () => diceFromCounts(confusionCounts(this.ctx.mask, this.ctx.gt)));
  }

  get prevDice(): number {
    return this.memo('prevDice', () => diceFromCounts(confusionCounts(this.ctx.prevMask, this.ctx.gt)));
  }
}

/** Throws an error naming the first malformed field. */
export function validateRewardContext(ctx: RewardContext): void {
  const where = 'RewardContext';
  if (ctx === null || typeof ctx !== 'object') throw new Error(`${where}: expected an object`);
  const { height, width } = ctx;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`${where}: height and width must be positive integers, got ${height} x ${width}`);
  }
  const n = height * width;
  for (const key of ['gt', 'prevMask', 'mask'] as const) {
    const a = ctx[key];
    if (!ArrayBuffer.isView(a) || (a as Uint8Array).length !== n) {
      throw new Error(
        `${where}.${key}: expected a Uint8Array of ${height} x ${width} = ${n} pixels, got ${a === undefined ? 'undefined' : (a as Uint8Array).length}`,
      );
    }
  }
  for (const key of ['prevMaskProbs', 'maskProbs'] as const) {
    const a = ctx[key];
    if (a !== undefined && (!ArrayBuffer.isView(a) || a.length !== n)) {
      throw new Error(`${where}.${key}: expected a Float32Array of ${n} pixels, got ${(a as Float32Array).length}`);
    }
  }
  for (const key of ['pointXY', 'pointNorm'] as const) {
    const p = ctx[key];
    if (!p || p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new Error(`${where}.${key}: expected [x, y] finite numbers, got ${JSON.stringify(p)}`);
    }
  }
  if (ctx.label !== 0 && ctx.label !== 1) throw new Error(`${where}.label: expected 0 or 1, got ${ctx.label}`);
  if (typeof ctx.pointInGt !== 'boolean') throw new Error(`${where}.pointInGt: expected a boolean`);
  if (!Number.isInteger(ctx.horizon) || ctx.horizon <= 0)
    throw new Error(`${where}.horizon: expected a positive integer, got ${ctx.horizon}`);
  if (!Number.isInteger(ctx.step) || ctx.step < 0 || ctx.step >= ctx.horizon) {
    throw new Error(`${where}.step: expected an integer in [0, ${ctx.horizon}), got ${ctx.step}`);
  }
  if (typeof ctx.isLastStep !== 'boolean') throw new Error(`${where}.isLastStep: expected a boolean`);
  if (
    !Array.isArray(ctx.earlierPointsNorm) ||
    !Array.isArray(ctx.earlierLabels) ||
    ctx.earlierPointsNorm.length !== ctx.earlierLabels.length
  ) {
    throw new Error(`${where}: earlierPointsNorm and earlierLabels must be arrays of equal length`);
  }
}
