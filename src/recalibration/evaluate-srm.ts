/**
 * How well the SRM labels cells, on held-out observations: accuracy of the thresholded label
 * against the ground truth on the grid, balanced accuracy, and ROC AUC of the probabilities
 * (every cell of every observation pooled). The majority-class accuracy is reported alongside,
 * since most cells are background and a constant "negative" already scores high.
 */
import type { SrmObservation } from './srm';

export interface SrmExample {
  observation: SrmObservation;
  /**
   * The ground truth on the grid, [G*G] in [0, 1]: the target's fraction of each cell
   * (info.cell_fractions) or the target at each cell's centre (info.cell_centres).
   */
  cellTruth: Float32Array;
}

export interface SrmEvaluation {
  /** Cells scored. */
  cells: number;
  /** Fraction of cells whose label (prob >= threshold) matches the truth (>= 0.5). */
  accuracy: number;
  /** Mean of the true-positive and true-negative rates. */
  balancedAccuracy: number;
  /** ROC AUC of the probabilities; NaN when only one class is present. */
  auc: number;
  /** Fraction of cells that are foreground. */
  positiveRate: number;
  /** Accuracy of always answering the more frequent class. */
  majorityAccuracy: number;
}

/**
 * ROC AUC by the rank-sum (Mann-Whitney U) formula, ties given their mean rank. Labels are 0/1.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${n} scores but ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const meanRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        rankSumPos += meanRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Scores from `scoreCells` against the truth; `threshold` defaults to 0.5. */
export function srmMetrics(
  scores: readonly Float32Array[],
  truths: readonly Float32Array[],
  threshold = 0.5,
): SrmEvaluation {
  if (scores.length !== truths.length)
    throw new Error(`srmMetrics: ${scores.length} score maps but ${truths.length} truths`);
  const allScores: number[] = [];
  const allLabels: number[] = [];
  let tp = 0;
  let tn = 0;
  let pos = 0;
  scores.forEach((s, i) => {
    const t = truths[i];
    if (s.length !== t.length)
      throw new Error(`srmMetrics: observation ${i} has ${s.length} scores and ${t.length} truths`);
    for (let c = 0; c < s.length; c++) {
      const y = t[c] >= 0.5 ? 1 : 0;
      const yhat = s[c] >= threshold ? 1 : 0;
      allScores.push(s[c]);
      allLabels.push(y);
      pos += y;
      if (y === 1 && yhat === 1) tp++;
      if (y === 0 && yhat === 0) tn++;
    }
  });
  const n = allScores.length;
  const neg = n - pos;
  const tpr = pos > 0 ? tp / pos : NaN;
  const tnr = neg > 0 ? tn / neg : NaN;
  return {
    cells: n,
    accuracy: n > 0 ? (tp + tn) / n : NaN,
    balancedAccuracy: pos > 0 && neg > 0 ? (tpr + tnr) / 2 : pos > 0 ? tpr : tnr,
    auc: rocAuc(allScores, allLabels),
    positiveRate: n > 0 ? pos / n : NaN,
    majorityAccuracy: n > 0 ? Math.max(pos, neg) / n : NaN,
  };
}

/** Evaluate an SRM (anything with scoreCells) on held-out examples. */
export async function evaluateSrm(
  srm: { scoreCells(o: readonly SrmObservation[]): Promise<Float32Array[]>; config?: { threshold: number } },
  examples: readonly SrmExample[],
): Promise<SrmEvaluation> {
  if (examples.length === 0) throw new Error('evaluateSrm: no examples');
  const scores = await srm.scoreCells(examples.map((e) => e.observation));
  return srmMetrics(
    scores,
    examples.map((e) => e.cellTruth),
    srm.config?.threshold ?? 0.5,
  );
}

/**
 * A training callback (the agents' Callback shape) that evaluates the SRM on held-out examples
 * every `everySteps` env timesteps and keeps the history, for logs.
 */
export class SrmEvalCallback {
  readonly history: Array<{ timesteps: number } & SrmEvaluation> = [];
  private next = 0;

  constructor(
    readonly opts: {
      srm: Parameters<typeof evaluateSrm>[0];
      examples: readonly SrmExample[];
      everySteps: number;
      log?: (entry: { timesteps: number } & SrmEvaluation) => void;
    },
  ) {
    if (!(Number.isInteger(opts.everySteps) && opts.everySteps > 0))
      throw new Error(`SrmEvalCallback: 'everySteps' must be a positive integer, got ${opts.everySteps}`);
  }

  onTrainingStart(ctx: { numTimesteps: number }): void {
    this.next = (Math.floor(ctx.numTimesteps / this.opts.everySteps) + 1) * this.opts.everySteps;
  }

  async onStep(ctx: { numTimesteps: number }): Promise<boolean> {
    if (ctx.numTimesteps >= this.next) {
      this.next +=
        this.opts.everySteps * Math.max(1, Math.floor((ctx.numTimesteps - this.next) / this.opts.everySteps) + 1);
      const entry = { timesteps: ctx.numTimesteps, ...(await evaluateSrm(this.opts.srm, this.opts.examples)) };
      this.history.push(entry);
      this.opts.log?.(entry);
    }
    return true;
  }
}
