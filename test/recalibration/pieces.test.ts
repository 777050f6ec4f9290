/** The SRM's building blocks: the loss, AUC and metrics. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { rocAuc, SrmEvalCallback, srmMetrics } from '../../src/recalibration/evaluate-srm';
import { cellTargets, diceBceLoss } from '../../src/recalibration/losses';

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
    expect(() => cellTargets([0, 1.5], 'hard')).toThrow(/cell fraction 1 is 1.5/);
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
    const examples = [{ observation: {} as never, cellFractions: Float32Array.from([1, 0]) }];
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
