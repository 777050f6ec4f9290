import {
  ConfusionAccumulator,
  ber,
  binarize,
  clickMetrics,
  clicksToReach,
  confusionCounts,
  dice,
  failedToReach,
  fBeta,
  iou,
  iouAtClick,
  mae,
  meanMetrics,
} from '../../src/metrics';

/** Parse a mask drawn as rows of '#' (foreground) and '.' */
const m = (rows: string) => Uint8Array.from(rows.replace(/\s+/g, ''), (c) => (c === '#' ? 1 : 0));

// 4 x 4: pred covers the top-left 2x2 block minus (1,0); gt covers columns 1-2 of rows 0-1.
const pred = m(`##..
                .#..
                ....
                ....`);
const gt = m(`.##.
              .##.
              ....
              ....`);
// TP = {(0,1),(1,1)} = 2, FP = {(0,0)} = 1, FN = {(0,2),(1,2)} = 2, TN = 11.

describe('segmentation metrics on hand-made masks', () => {
  it('counts the confusion matrix', () => {
    expect(confusionCounts(pred, gt)).toEqual({ tp: 2, fp: 1, fn: 2, tn: 11 });
  });

  it('IoU = 2/5 and Dice = 4/7', () => {
    expect(iou(pred, gt)).toBeCloseTo(2 / 5, 12);
    expect(dice(pred, gt)).toBeCloseTo(4 / 7, 12);
    expect(iou(gt, gt)).toBe(1);
    expect(iou(m('##..'), m('..##'))).toBe(0);
  });

  it('BER = 1 - (2/4 + 11/12) / 2', () => {
    expect(ber(pred, gt)).toBeCloseTo(1 - (0.5 + 11 / 12) / 2, 12);
    expect(ber(gt, gt)).toBe(0);
    expect(ber(m('####'), m('..##'))).toBeCloseTo(0.5, 12); // all-foreground prediction
  });

  it('F-beta with beta^2 = 0.3: P = 2/3, R = 1/2', () => {
    const p = 2 / 3;
    const r = 1 / 2;
    expect(fBeta(pred, gt)).toBeCloseTo((1.3 * p * r) / (0.3 * p + r), 12);
    expect(fBeta(pred, gt, { beta2: 1 })).toBeCloseTo(dice(pred, gt), 12);
  });

  it('F-beta at 0.5 and adaptive thresholds on a probability map', () => {
    const probs = new Float32Array([0.1, 0.2, 0.6, 0.95]);
    const target = m('..##');
    expect(fBeta(probs, target)).toBeCloseTo(1, 12); // 0.5 keeps {2, 3}
    // adaptive: 2 x mean = 0.925 keeps only {3}: P = 1, R = 0.5
    expect(fBeta(probs, target, { threshold: 'adaptive' })).toBeCloseTo((1.3 * 0.5) / (0.3 + 0.5), 6);
    expect(() => fBeta(probs, target, { beta2: 0 })).toThrow(/beta2/);
  });

  it('MAE of probabilities against a binary ground truth', () => {
    expect(mae(new Float32Array([0.2, 0.9, 0.5, 0]), m('.##.'))).toBeCloseTo((0.2 + 0.1 + 0.5) / 4, 6);
    expect(mae(pred, gt)).toBeCloseTo(3 / 16, 12);
    expect(() => mae(new Float32Array([1.5]), m('#'))).toThrow(/\[0, 1\], got 1.5 at 0/);
  });

  it('empty-mask conventions', () => {
    const empty = m('....');
    const some = m('.#..');
    expect(iou(empty, empty)).toBe(1);
    expect(dice(empty, empty)).toBe(1);
    expect(fBeta(empty, empty)).toBe(1);
    expect(ber(empty, empty)).toBe(0);
    expect(mae(empty, empty)).toBe(0);
    expect(iou(empty, some)).toBe(0);
    expect(dice(some, empty)).toBe(0);
    expect(fBeta(empty, some)).toBe(0);
    expect(fBeta(some, empty)).toBe(0);
    expect(ber(empty, some)).toBeCloseTo(0.5, 12); // misses every positive, every negative right
    expect(ber(some, empty)).toBeCloseTo(0.5 * (1 / 4), 12); // positive term 1 (absent), negative 3/4
  });

  it('rejects masks of different sizes, naming the metric', () => {
    expect(() => iou(new Uint8Array(4), new Uint8Array(5))).toThrow(
      /confusionCounts: prediction has 4 pixels, ground truth has 5/,
    );
    expect(() => fBeta(new Uint8Array(4), new Uint8Array(5))).toThrow(/fBeta/);
  });

  it('binarize and the accumulated (data-set) IoU', () => {
    expect(Array.from(binarize(new Float32Array([0.49, 0.5, 0.7]), 0.5))).toEqual([0, 1, 1]);
    const acc = new ConfusionAccumulator().add(pred, gt).add(m('##'), m('#.'));
    // sums: TP 2 + 1, FP 1 + 1, FN 2 + 0 -> 3 / 7, unlike the mean of per-image IoUs (2/5 + 1/2) / 2
    expect(acc.iou()).toBeCloseTo(3 / 7, 12);
    expect(new ConfusionAccumulator().iou()).toBe(1);
  });
});

describe('interactive metrics', () => {
  const curve = [0.5, 0.8, 0.86, 0.84, 0.91];

  it('IoU after k clicks, holding the last value past the episode end', () => {
    expect(iouAtClick(curve, 1)).toBe(0.5);
    expect(iouAtClick(curve, 3)).toBe(0.86);
    expect(iouAtClick(curve, 10)).toBe(0.91);
    expect(() => iouAtClick(curve, 0)).toThrow(/k must be an integer >= 1/);
    expect(() => iouAtClick([], 1)).toThrow(/empty/);
  });

  it('NoC is the first click reaching the threshold, or the cap', () => {
    expect(clicksToReach(curve, 0.85)).toBe(3);
    expect(clicksToReach(curve, 0.9)).toBe(5);
    expect(clicksToReach(curve, 0.95)).toBe(20);
    expect(clicksToReach(curve, 0.9, 4)).toBe(4); // reached only after the budget
    expect(failedToReach(curve, 0.9, 4)).toBe(true);
    expect(failedToReach(curve, 0.9)).toBe(false);
    const long = Array.from({ length: 30 }, (_, i) => (i === 24 ? 0.95 : 0.1));
    expect(clicksToReach(long, 0.9)).toBe(20);
  });

  it('per-episode records average into mIoU@k, mean NoC and failure rate', () => {
    const a = clickMetrics(curve, { ks: [1, 5] });
    const b = clickMetrics([0.9, 0.95], { ks: [1, 5] });
    expect(a).toEqual({ 'iou@1': 0.5, 'iou@5': 0.91, 'noc@85': 3, 'nof@85': 0, 'noc@90': 5, 'nof@90': 0 });
    expect(b).toEqual({ 'iou@1': 0.9, 'iou@5': 0.95, 'noc@85': 1, 'nof@85': 0, 'noc@90': 1, 'nof@90': 0 });
    const c = clickMetrics([0.1], { ks: [1, 5] });
    const mean = meanMetrics([a, b, c]);
    expect(mean['iou@1']).toBeCloseTo((0.5 + 0.9 + 0.1) / 3, 12);
    expect(mean['noc@90']).toBeCloseTo((5 + 1 + 20) / 3, 12);
    expect(mean['nof@85']).toBeCloseTo(1 / 3, 12);
    expect(() => meanMetrics([a, { x: 1 }])).toThrow(/episode 1 has keys x/);
    expect(() => meanMetrics([{ x: 1 }, { x: NaN }])).toThrow(/episode 1 has x = NaN/);
    expect(() => meanMetrics([])).toThrow(/no episodes/);
  });
});
