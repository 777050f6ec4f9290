import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { iou } from '../../src/metrics';
import {
  REWARD_PRESETS,
  RewardContext,
  RewardTermConfig,
  RewardFunction,
  normaliseRewardConfig,
} from '../../src/reward';
import { Rng } from '../../src/utils/rng';

const m = (rows: string) => Uint8Array.from(rows.replace(/\s+/g, ''), (c) => (c === '#' ? 1 : 0));

// 4 x 4. gt: the top-left 2x2 block.
const gt = m(`##..
              ##..
              ....
              ....`);
// before: {(0,0) hit, (3,3) miss}: TP 1, FP 1, FN 3 -> IoU 1/5, Dice 2/6
const prevMask = m(`#...
                    ....
                    ....
                    ...#`);
// after: gt minus (1,1) plus (0,2): TP 3, FP 1, FN 1 -> IoU 3/5, Dice 6/8
const mask = m(`###.
                #...
                ....
                ....`);

function ctx(over: Partial<RewardContext> = {}): RewardContext {
  return {
    height: 4,
    width: 4,
    gt,
    prevMask,
    mask,
    pointXY: [0.5, 0.5],
    pointNorm: [0.125, 0.125],
    label: 1,
    pointInGt: true,
    step: 2,
    horizon: 15,
    isLastStep: false,
    earlierPointsNorm: [
      [0.9, 0.9],
      [0.5, 0.5],
    ],
    earlierLabels: [0, 1],
    ...over,
  };
}

const value = (term: RewardTermConfig, c: RewardContext) => new RewardFunction([term]).compute(c).total;

describe('built-in reward terms', () => {
  it('label: +1 in the ground truth, -1 outside, whatever the click label', () => {
    expect(value({ term: 'label' }, ctx())).toBe(1);
    expect(value({ term: 'label' }, ctx({ label: 0 }))).toBe(1);
    expect(value({ term: 'label' }, ctx({ pointInGt: false }))).toBe(-1);
  });

  it('label_correct: +1 when the label agrees with the ground truth', () => {
    expect(value({ term: 'label_correct' }, ctx({ label: 1, pointInGt: true }))).toBe(1);
    expect(value({ term: 'label_correct' }, ctx({ label: 0, pointInGt: false }))).toBe(1);
    expect(value({ term: 'label_correct' }, ctx({ label: 0, pointInGt: true }))).toBe(-1);
    expect(value({ term: 'label_correct' }, ctx({ label: 1, pointInGt: false }))).toBe(-1);
  });

  it('iou_gain = 3/5 - 1/5 and dice_gain = 6/8 - 2/6', () => {
    expect(value({ term: 'iou_gain' }, ctx())).toBeCloseTo(0.4, 12);
    expect(value({ term: 'dice_gain' }, ctx())).toBeCloseTo(0.75 - 1 / 3, 12);
  });

  it('final_iou pays IoU on the last step only; step_cost is -1', () => {
    expect(value({ term: 'final_iou' }, ctx())).toBe(0);
    expect(value({ term: 'final_iou' }, ctx({ step: 14, isLastStep: true }))).toBeCloseTo(0.6, 12);
    expect(value({ term: 'step_cost' }, ctx())).toBe(-1);
  });

  it('repeat_penalty: -1 within radius of an earlier point (boundary included)', () => {
    // nearest earlier point (0.5, 0.5) is at distance 0.375 * sqrt(2) ~ 0.530 from (0.125, 0.125)
    expect(value({ term: 'repeat_penalty' }, ctx())).toBe(0);
    expect(value({ term: 'repeat_penalty', radius: 0.53 }, ctx())).toBe(0);
    expect(value({ term: 'repeat_penalty', radius: 0.531 }, ctx())).toBe(-1);
    expect(value({ term: 'repeat_penalty' }, ctx({ pointNorm: [0.53, 0.5] }))).toBe(-1);
    expect(value({ term: 'repeat_penalty', radius: 0 }, ctx({ pointNorm: [0.5, 0.5] }))).toBe(-1);
    expect(value({ term: 'repeat_penalty' }, ctx({ earlierPointsNorm: [], earlierLabels: [] }))).toBe(0);
  });

  it('iou_gain telescopes over an episode to IoU_T - IoU_0', () => {
    const rng = new Rng(3);
    const fn = new RewardFunction('iou');
    const masks = Array.from({ length: 6 }, () => Uint8Array.from({ length: 16 }, () => (rng.random() < 0.4 ? 1 : 0)));
    let total = 0;
    for (let t = 1; t < masks.length; t++)
      total += fn.reward(ctx({ prevMask: masks[t - 1], mask: masks[t], step: t - 1 }));
    expect(total).toBeCloseTo(iou(masks[5], gt) - iou(masks[0], gt), 12);
  });
});

describe('RewardFunction', () => {
  it('presets: alignsam, iou and mixed with documented weights', () => {
    expect(new RewardFunction('alignsam').reward(ctx({ pointInGt: false }))).toBe(-1);
    expect(new RewardFunction({ preset: 'iou' }).reward(ctx())).toBeCloseTo(0.4, 12);
    const mixed = new RewardFunction('mixed');
    expect(mixed.describe()).toBe('0.1 x label + 1 x iou_gain + 1 x final_iou');
    const b = mixed.compute(ctx({ step: 14, isLastStep: true }));
    expect(b.values).toEqual({ label: 1, iou_gain: expect.closeTo(0.4, 12), final_iou: expect.closeTo(0.6, 12) });
    expect(b.weighted.label).toBeCloseTo(0.1, 12);
    expect(b.total).toBeCloseTo(0.1 + 0.4 + 0.6, 12);
    expect(Object.keys(REWARD_PRESETS)).toEqual(['alignsam', 'iou', 'mixed']);
  });

  it('sums weighted terms with parameters and distinct names', () => {
    const fn = new RewardFunction({
      terms: [
        { term: 'label', weight: 2 },
        { term: 'repeat_penalty', weight: 0.5, radius: 0.6 },
        { term: 'repeat_penalty', name: 'near_repeat', weight: 3, radius: 0.01 },
        { term: 'step_cost', weight: 0.05 },
      ],
    });
    const b = fn.compute(ctx());
    expect(b.weighted).toEqual({ label: 2, repeat_penalty: -0.5, near_repeat: 0, step_cost: -0.05 });
    expect(b.total).toBeCloseTo(2 - 0.5 - 0.05, 12);
    expect(fn.terms.map((t) => t.params)).toEqual([{}, { radius: 0.6 }, { radius: 0.01 }, {}]);
  });

  it('rejects bad configs with errors naming the term', () => {
    expect(() => new RewardFunction([{ term: 'iou_gian', weight: 1 }])).toThrow(
      /unknown reward term 'iou_gian' \(known: label, .*custom\)/,
    );
    expect(() => new RewardFunction([{ term: 'label', weight: NaN }])).toThrow(
      /reward term 'label': weight must be a finite number/,
    );
    expect(() => new RewardFunction([{ term: 'label', weight: '1' as never }])).toThrow(
      /'label': weight must be a finite number, got "1"/,
    );
    expect(() => new RewardFunction([{ term: 'iou_gain', weight: Infinity }])).toThrow(/'iou_gain': weight/);
    expect(() => new RewardFunction([{ term: 'label', radius: 0.1 }])).toThrow(/'label': unknown parameter 'radius'/);
    expect(() => new RewardFunction([{ term: 'repeat_penalty', radius: -1 }])).toThrow(
      "reward term 'repeat_penalty' option 'radius': expected a number >= 0, got -1",
    );
    expect(() => new RewardFunction([{ term: 'label' }, { term: 'label' }])).toThrow(/two terms are named 'label'/);
    expect(() => new RewardFunction([])).toThrow(/no terms/);
    expect(() => new RewardFunction('paper' as never)).toThrow(/unknown reward preset 'paper'/);
    expect(() => new RewardFunction({ preset: 'iou', terms: [] } as never)).toThrow(/either 'preset' or 'terms'/);
    expect(() => new RewardFunction([{ weight: 1 } as never])).toThrow(/reward term 0: 'term' must be a string/);
    expect(normaliseRewardConfig([{ term: 'label' }])[0].weight).toBe(1);
  });

  it('validates the context, naming the field', () => {
    const fn = new RewardFunction('mixed');
    expect(() => fn.compute(ctx({ mask: new Uint8Array(15) }))).toThrow(
      /RewardContext.mask: expected a Uint8Array of 4 x 4 = 16 pixels, got 15/,
    );
    expect(() => fn.compute(ctx({ label: 2 as never }))).toThrow(/RewardContext.label/);
    expect(() => fn.compute(ctx({ step: 15 }))).toThrow(/RewardContext.step: expected an integer in \[0, 15\)/);
    expect(() => fn.compute(ctx({ pointNorm: [NaN, 0] }))).toThrow(/RewardContext.pointNorm/);
  });
});

describe('custom reward terms', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reward-'));
    fs.writeFileSync(
      path.join(dir, 'area.js'),
      'module.exports = (ctx, scores, options) => options.scale * ctx.mask.reduce((a, b) => a + b, 0) + scores.iou;\n',
    );
    fs.writeFileSync(
      path.join(dir, 'named.js'),
      'exports.bonus = (ctx) => (ctx.label === 1 ? 2 : 0);\nexports.bad = () => NaN;\n',
    );
    fs.writeFileSync(path.join(dir, 'broken.js'), 'throw new Error("syntax of doom");\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads a function from a module path relative to baseDir, with options and shared scores', () => {
    const fn = new RewardFunction(
      [
        { term: 'custom', name: 'area', weight: 0.5, module: './area.js', options: { scale: 0.25 } },
        { term: 'custom', name: 'bonus', module: path.join(dir, 'named.js'), export: 'bonus' },
      ],
      { baseDir: dir },
    );
    const b = fn.compute(ctx());
    expect(b.values.area).toBeCloseTo(0.25 * 4 + 0.6, 12);
    expect(b.values.bonus).toBe(2);
    expect(b.total).toBeCloseTo(0.5 * 1.6 + 2, 12);
  });

  it('reports a missing module, a missing export, a throwing module and a non-finite result', () => {
    expect(() => new RewardFunction([{ term: 'custom', module: './nope.js' }], { baseDir: dir })).toThrow(
      /reward term 'custom': module .*nope\.js does not exist/,
    );
    expect(() => new RewardFunction([{ term: 'custom', module: './named.js' }], { baseDir: dir })).toThrow(
      /does not export a function \(module.exports or default\)/,
    );
    expect(() => new RewardFunction([{ term: 'custom', name: 'b', module: './broken.js' }], { baseDir: dir })).toThrow(
      /reward term 'b': loading .*broken\.js failed: syntax of doom/,
    );
    const bad = new RewardFunction([{ term: 'custom', name: 'nan', module: './named.js', export: 'bad' }], {
      baseDir: dir,
    });
    expect(() => bad.compute(ctx())).toThrow(/reward term 'nan' returned NaN, not a finite number/);
    expect(() => new RewardFunction([{ term: 'custom' }])).toThrow(/'module' \(a path\) is required/);
    expect(() => new RewardFunction([{ term: 'custom', module: 'x.js', radius: 1 }])).toThrow(
      /unknown parameter 'radius'/,
    );
  });
});
