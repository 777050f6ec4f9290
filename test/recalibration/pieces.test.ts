/** The SRM's building blocks: the loss, AUC and metrics, and the ground truth on the grid it learns. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { rocAuc, SrmEvalCallback, srmMetrics } from '../../src/recalibration/evaluate-srm';
import { ActionGrid } from '../../src/env/prompt/action-grid';
import { cellTargets, diceBceLoss } from '../../src/recalibration/losses';
import { cellTruthOf } from '../../src/recalibration/srm-training';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('diceBceLoss', () => {
  it('matches hand-computed BCE and Dice', () => {
    const x = [
      [2, -1, 0],
      [0.5, -3, 1],
    ];
    const y = [
      [1, 0, 1],
      [0, 0, 0],
    ];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    let bce = 0;
    let dice = 0;
    for (let i = 0; i < 2; i++) {
      let inter = 0;
      let ps = 0;
      let ys = 0;
      for (let j = 0; j < 3; j++) {
        const p = sig(x[i][j]);
        bce += -(y[i][j] * Math.log(p) + (1 - y[i][j]) * Math.log(1 - p)) / 6;
        inter += p * y[i][j];
        ps += p;
        ys += y[i][j];
      }
      dice += (1 - (2 * inter + 1) / (ps + ys + 1)) / 2;
    }
    const t = diceBceLoss(tf.tensor2d(x), tf.tensor2d(y), 0.7, 0.3);
    expect(t.bce.dataSync()[0]).toBeCloseTo(bce, 5);
    expect(t.dice.dataSync()[0]).toBeCloseTo(dice, 5);
    expect(t.total.dataSync()[0]).toBeCloseTo(0.7 * bce + 0.3 * dice, 5);
  });

  it('is finite for extreme logits', () => {
    const t = diceBceLoss(tf.tensor2d([[80, -80]]), tf.tensor2d([[0, 1]]));
    const v = t.bce.dataSync()[0];
    expect(v).toBeCloseTo(80, 3);
  });

  it('turns cell fractions into hard or soft targets', () => {
    expect(Array.from(cellTargets([0, 0.49, 0.5, 1], 'hard'))).toEqual([0, 0, 1, 1]);
    expect(Array.from(cellTargets([0, 0.25], 'soft'))).toEqual([0, 0.25]);
    expect(() => cellTargets([0, 1.5], 'hard')).toThrow(/ground truth of cell 1 is 1.5/);
  });
});

describe('rocAuc and srmMetrics', () => {
  it('computes AUC by ranks, ties at half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 10);
    expect(rocAuc([0.5, 0.5, 0.5], [0, 1, 0])).toBeCloseTo(0.5, 10);
    expect(rocAuc([1, 2, 3], [0, 0, 1])).toBe(1);
    expect(rocAuc([3, 2, 1], [0, 0, 1])).toBe(0);
    expect(rocAuc([1, 2], [1, 1])).toBeNaN();
  });

  it('reports accuracy against the majority-class baseline', () => {
    const m = srmMetrics([Float32Array.from([0.9, 0.2, 0.6, 0.1])], [Float32Array.from([1, 0, 0, 0])]);
    expect(m.cells).toBe(4);
    expect(m.accuracy).toBeCloseTo(0.75);
    expect(m.majorityAccuracy).toBeCloseTo(0.75);
    expect(m.balancedAccuracy).toBeCloseTo((1 + 2 / 3) / 2);
    expect(m.auc).toBe(1);
    expect(m.positiveRate).toBeCloseTo(0.25);
  });
});

describe('SrmEvalCallback', () => {
  it('evaluates every N timesteps on the held-out examples', async () => {
    let calls = 0;
    const srm = {
      config: { threshold: 0.5 },
      scoreCells: async (o: readonly unknown[]) => {
        calls++;
        return o.map(() => Float32Array.from([0.9, 0.1]));
      },
    };
    const examples = [{ observation: {} as never, cellTruth: Float32Array.from([1, 0]) }];
    const logged: number[] = [];
    const cb = new SrmEvalCallback({ srm, examples, everySteps: 10, log: (e) => logged.push(e.timesteps) });
    cb.onTrainingStart({ numTimesteps: 0 });
    for (const t of [4, 8, 12, 16, 20, 35]) await cb.onStep({ numTimesteps: t });
    expect(logged).toEqual([12, 20, 35]);
    expect(calls).toBe(3);
    expect(cb.history[0].accuracy).toBe(1);
    expect(() => new SrmEvalCallback({ srm, examples, everySteps: 0 })).toThrow(
      /'everySteps' must be a positive integer/,
    );
  });
});

describe('the ground truth on the grid', () => {
  // A 4 x 4 image on a 2 x 2 grid: the top-left cell is 3/4 target but its centre pixel (1, 1)
  // is background; the bottom-right cell is 1/4 target, its centre pixel (3, 3) included.
  const mask = Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const grid = new ActionGrid(2, 'oracle');

  it('gives each cell its target fraction and the target at its centre, where a click lands', () => {
    expect(Array.from(grid.cellFractions(mask, 4, 4))).toEqual([0.75, 0, 0, 0.25]);
    expect(Array.from(grid.cellCentreTruth(mask, 4, 4))).toEqual([0, 0, 0, 1]);
    // A click on a cell is judged at cellCenterXY, the pixel cellCentreTruth reads.
    const [x, y] = grid.cellCenterXY(3, 4, 4);
    expect(mask[Math.floor(y) * 4 + Math.floor(x)]).toBe(1);
  });

  it('hands the SRM the truth its config names, and names the missing field', () => {
    const info = {
      cell_fractions: Float32Array.from([0.75, 0, 0, 0.25]),
      cell_centres: Float32Array.from([0, 0, 0, 1]),
    };
    expect(Array.from(cellTargets(cellTruthOf(info, 'area', 'env 0'), 'hard'))).toEqual([1, 0, 0, 0]);
    expect(Array.from(cellTargets(cellTruthOf(info, 'centre', 'env 0'), 'hard'))).toEqual([0, 0, 0, 1]);
    expect(() => cellTruthOf({ cell_fractions: info.cell_fractions }, 'centre', 'env 1')).toThrow(
      /env 1: info\.cell_centres is missing.*cellTruth 'centre'/,
    );
  });
});
