/**
 * Pixel confusion counts of a binary prediction against a binary ground truth. Masks are flat
 * arrays of the same length (row-major H x W); an element is foreground when it is non-zero.
 * Probability maps must be thresholded first (`binarize`).
 */
export type MaskLike = ArrayLike<number>;

export interface ConfusionCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function checkSameSize(pred: MaskLike, gt: MaskLike, where: string): void {
  if (pred.length !== gt.length) {
    throw new Error(`${where}: prediction has ${pred.length} pixels, ground truth has ${gt.length}`);
  }
}

export function confusionCounts(pred: MaskLike, gt: MaskLike): ConfusionCounts {
  checkSameSize(pred, gt, 'confusionCounts');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0;
    const g = gt[i] !== 0;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  return { tp, fp, fn, tn: pred.length - tp - fp - fn };
}

/** 1 where `probs >= threshold`, else 0. */
export function binarize(probs: ArrayLike<number>, threshold = 0.5): Uint8Array {
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) out[i] = probs[i] >= threshold ? 1 : 0;
  return out;
}

/**
 * Sums confusion counts over many masks, for data-set-level scores (the PASCAL VOC convention:
 * IoU = sum TP / sum (TP + FP + FN) over all images), as opposed to the mean of per-image scores.
 */
export class ConfusionAccumulator {
  readonly counts: ConfusionCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };

  add(pred: MaskLike, gt: MaskLike): this {
    const c = confusionCounts(pred, gt);
    this.counts.tp += c.tp;
    this.counts.fp += c.fp;
    this.counts.fn += c.fn;
    this.counts.tn += c.tn;
    return this;
  }

  /** Accumulated IoU; 1 when nothing was foreground in any prediction or ground truth. */
  iou(): number {
    const { tp, fp, fn } = this.counts;
    return tp + fp + fn === 0 ? 1 : tp / (tp + fp + fn);
  }
}
