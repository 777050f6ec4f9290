/**
 * The built-in reward terms. Each term maps a step's context to a number; the reward is the
 * weighted sum of the configured terms (see `reward-function.ts`). Formulas, with IoU_t / Dice_t
 * the scores of the mask after step t's click against the ground truth at the reward resolution
 * (both empty: 1):
 *
 * - `label`:          +1 if the clicked point lies in the ground-truth foreground, else -1
 *                     (AlignSAM's reward; independent of the click's label).
 * - `label_correct`:  +1 if the click's label equals the ground truth at the point
 *                     (label 1 inside the target, 0 outside), else -1.
 * - `iou_gain`:       IoU_t - IoU_{t-1}; summed over an episode it telescopes to IoU_T - IoU_0.
 * - `dice_gain`:      Dice_t - Dice_{t-1}.
 * - `final_iou`:      IoU_T on the episode's last step, 0 on the others.
 * - `step_cost`:      -1 on every step (a per-click price; scale it with the weight).
 * - `repeat_penalty`: -1 if the point lies within `radius` (Euclidean, in normalised [0, 1]
 *                     coordinates; default 0.05) of any earlier prompt point, else 0. With the
 *                     paper's 10 x 10 grid, cell centres are 0.1 apart, so 0.05 catches only a
 *                     repeat of the same cell.
 * - `custom`:         a function from a user module (see `custom-term.ts`).
 */
import type { z } from 'zod';
import { s } from '../schema/schema';
import type { MaskScores, RewardContext } from './context';

export type TermFn = (ctx: RewardContext, scores: MaskScores) => number;

export interface BuiltinTerm {
  formula: string;
  /** The term's parameters as schema fields (type, default, range, meaning); configs/README.md lists them. */
  params: Record<string, z.ZodType<number>>;
  build(params: Record<string, number>): TermFn;
}

export const BUILTIN_TERMS: Record<string, BuiltinTerm> = {
  label: {
    formula: '+1 if the point is in the ground-truth foreground, else -1',
    params: {},
    build: () => (ctx) => (ctx.pointInGt ? 1 : -1),
  },
  label_correct: {
    formula: "+1 if the click's label matches the ground truth at the point, else -1",
    params: {},
    build: () => (ctx) => ((ctx.label === 1) === ctx.pointInGt ? 1 : -1),
  },
  iou_gain: {
    formula: 'IoU_t - IoU_{t-1}',
    params: {},
    build: () => (_ctx, s) => s.iou - s.prevIou,
  },
  dice_gain: {
    formula: 'Dice_t - Dice_{t-1}',
    params: {},
    build: () => (_ctx, s) => s.dice - s.prevDice,
  },
  final_iou: {
    formula: 'IoU_T on the last step, else 0',
    params: {},
    build: () => (ctx, s) => (ctx.isLastStep ? s.iou : 0),
  },
  step_cost: {
    formula: '-1 every step',
    params: {},
    build: () => () => -1,
  },
  repeat_penalty: {
    formula: '-1 if the point is within radius (normalised coordinates) of an earlier point, else 0',
    params: {
      radius: s
        .number({ min: 0 })
        .default(0.05)
        .describe('Distance, in normalised [0, 1] image coordinates, within which a point repeats an earlier one.'),
    },
    build: ({ radius }) => {
      const r2 = radius * radius;
      return (ctx) => {
        const [x, y] = ctx.pointNorm;
        for (const [px, py] of ctx.earlierPointsNorm) {
          if ((x - px) ** 2 + (y - py) ** 2 <= r2) return -1;
        }
        return 0;
      };
    },
  },
};
