/**
 * Per-image segmentation scores, as the literature defines them. Binary masks: non-zero is
 * foreground. Empty-mask conventions (documented per function) make every score defined: a
 * prediction that correctly finds nothing scores perfectly.
 */
import { checkSameSize, ConfusionCounts, confusionCounts, MaskLike } from './confusion';

/** Intersection over union |P n G| / |P u G|. Both empty: 1. */
export function iou(pred: MaskLike, gt: MaskLike): number {
  return iouFromCounts(confusionCounts(pred, gt));
}

export function iouFromCounts({ tp, fp, fn }: ConfusionCounts): number {
  return tp + fp + fn === 0 ? 1 : tp / (tp + fp + fn);
}

/** Dice (F1) 2|P n G| / (|P| + |G|). Both empty: 1. */
export function dice(pred: MaskLike, gt: MaskLike): number {
  return diceFromCounts(confusionCounts(pred, gt));
}

export function diceFromCounts({ tp, fp, fn }: ConfusionCounts): number {
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Balanced error rate, as in shadow detection: BER = 1 - (TP / Np + TN / Nn) / 2, with Np, Nn the
 * ground truth's positive and negative pixel counts. Returned as a fraction in [0, 1]; papers report
 * 100 x BER. A class absent from the ground truth counts as perfectly recalled (its term is 1).
 */
export function ber(pred: MaskLike, gt: MaskLike): number {
  const { tp, fp, fn, tn } = confusionCounts(pred, gt);
  const np = tp + fn;
  const nn = tn + fp;
  const posRecall = np === 0 ? 1 : tp / np;
  const negRecall = nn === 0 ? 1 : tn / nn;
  return 1 - (posRecall + negRecall) / 2;
}

/**
 * Mean absolute error between a prediction in [0, 1] (probabilities or a binary 0/1 mask) and the
 * binary ground truth (non-zero = 1), as in salient object detection. Empty masks: 0.
 */
export function mae(pred: ArrayLike<number>, gt: MaskLike): number {
  checkSameSize(pred, gt, 'mae');
  if (pred.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    if (!(p >= 0 && p <= 1)) throw new Error(`mae: prediction values must lie in [0, 1], got ${p} at ${i}`);
    sum += Math.abs(p - (gt[i] !== 0 ? 1 : 0));
  }
  return sum / pred.length;
}

export interface FBetaOptions {
  /** beta squared; 0.3 weighs precision over recall, the saliency literature's choice. */
  beta2?: number;
  /**
   * Threshold turning `pred` (values in [0, 1]) into a mask: a number (pixels >= it are foreground;
   * default 0.5, which leaves a 0/1 mask unchanged), or 'adaptive': twice the mean prediction,
   * capped at 1 (Achanta et al. 2009, the "adaptive F-measure" of saliency benchmarks).
   */
  threshold?: number | 'adaptive';
}

/**
 * F-beta = (1 + b2) P R / (b2 P + R) at one threshold. Conventions: both masks empty -> 1; no true
 * positives otherwise (including an empty prediction of a non-empty target) -> 0.
 */
export function fBeta(pred: ArrayLike<number>, gt: MaskLike, options: FBetaOptions = {}): number {
  checkSameSize(pred, gt, 'fBeta');
  const beta2 = options.beta2 ?? 0.3;
  if (!(beta2 > 0)) throw new Error(`fBeta: beta2 must be positive, got ${beta2}`);
  let threshold: number;
  if (options.threshold === 'adaptive') {
    let sum = 0;
    for (let i = 0; i < pred.length; i++) sum += pred[i];
    threshold = Math.min(1, pred.length === 0 ? 1 : (2 * sum) / pred.length);
  } else {
    threshold = options.threshold ?? 0.5;
  }
  let tp = 0;
  let predPos = 0;
  let gtPos = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] >= threshold && pred[i] > 0;
    const g = gt[i] !== 0;
    if (p) predPos++;
    if (g) gtPos++;
    if (p && g) tp++;
  }
  if (predPos === 0 && gtPos === 0) return 1;
  if (tp === 0) return 0;
  const precision = tp / predPos;
  const recall = tp / gtPos;
  return ((1 + beta2) * precision * recall) / (beta2 * precision + recall);
}
