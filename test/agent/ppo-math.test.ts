import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import {
  argmaxMasked,
  entropy,
  logProbsAll,
  MASKED_LOGIT,
  maskedLogSoftmaxRow,
  maskLogits,
  sampleMasked,
} from '../../src/agent/distributions';
import { bootstrapTruncated, computeGae, explainedVariance } from '../../src/agent/ppo/gae';
import { normalizeAdvantages, ppoLoss } from '../../src/agent/ppo/ppo-loss';
import { Rng } from '../../src/utils/rng';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('GAE and returns', () => {
  // Two envs, three steps, gamma 0.9, lambda 0.8. Env 0 runs on past the rollout (bootstrap from
  // lastValues); env 1 terminates at step 1 and again at step 2.
  const base = {
    rewards: [1, 1, 2, -1, 3, 2], // step-major: [s0e0, s0e1, s1e0, s1e1, s2e0, s2e1]
    values: [0.5, 0.2, 1.0, 0.4, 1.5, 0.6],
    episodeStarts: [1, 0, 0, 0, 0, 1],
    lastValues: [2.0, 5.0],
    lastDones: [false, true],
    nSteps: 3,
    nEnvs: 2,
    gamma: 0.9,
  };

  it('matches hand-computed advantages with termination and bootstrapping', () => {
    const { advantages, returns } = computeGae({ ...base, gaeLambda: 0.8 });
    // env 0: d2 = 3 + .9*2 - 1.5 = 3.3; d1 = 2 + .9*1.5 - 1 = 2.35; d0 = 1 + .9*1 - .5 = 1.4
    //        A2 = 3.3, A1 = 2.35 + .72*3.3 = 4.726, A0 = 1.4 + .72*4.726 = 4.80272
    // env 1: step 2 ends (lastDones) -> A2 = 2 - .6 = 1.4; step 1 ends (start at 2) -> A1 = -1 - .4 = -1.4
    //        A0 = (1 + .9*.4 - .2) + .72*(-1.4) = 1.16 - 1.008 = 0.152
    const want = [4.80272, 0.152, 4.726, -1.4, 3.3, 1.4];
    want.forEach((w, i) => expect(advantages[i]).toBeCloseTo(w, 5));
    want.forEach((w, i) => expect(returns[i]).toBeCloseTo(w + base.values[i], 5));
  });

  it('with lambda = 1 gives discounted returns bootstrapped at the rollout end', () => {
    const { returns } = computeGae({ ...base, gaeLambda: 1 });
    expect(returns[0]).toBeCloseTo(1 + 0.9 * 2 + 0.81 * 3 + 0.729 * 2.0, 5);
    expect(returns[1]).toBeCloseTo(1 + 0.9 * -1, 5);
    expect(returns[5]).toBeCloseTo(2, 5);
  });

  it('bootstraps truncated steps from the final observation value, not terminated ones', () => {
    const rewards = Float32Array.from([1, -1, 0.5]);
    bootstrapTruncated(rewards, [false, true, true], [true, false, true], [3, 7, 11], 0.9);
    // env 0 truncated -> 1 + .9*3; env 1 terminated -> unchanged; env 2 both flags -> terminal wins.
    expect(Array.from(rewards).map((v) => +v.toFixed(5))).toEqual([3.7, -1, 0.5]);
  });

  it('explained variance is 1 for perfect predictions and 0 for the mean', () => {
    expect(explainedVariance([1, 2, 3], [1, 2, 3])).toBeCloseTo(1, 10);
    expect(explainedVariance([2, 2, 2], [1, 2, 3])).toBeCloseTo(0, 10);
    expect(explainedVariance([1, 1], [4, 4])).toBeNaN();
  });
});

describe('masked categorical', () => {
  it('gives masked actions zero probability, finite entropy and finite gradients', () => {
    const logits = [3, 1, 100, -2, 0.5, 0, 0, 0];
    const mask = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 0]);
    tf.tidy(() => {
      const lt = tf.tensor2d(logits, [2, 4]);
      const logp = logProbsAll(maskLogits(lt, mask)).arraySync();
      const ref0 = maskedLogSoftmaxRow(logits.slice(0, 4), mask.slice(0, 4));
      for (const i of [0, 1, 3]) expect(logp[0][i]).toBeCloseTo(ref0[i], 5);
      expect(logp[0][2]).toBeLessThan(MASKED_LOGIT / 2);
      expect(logp[1][2]).toBeCloseTo(0, 6); // the only allowed action in row 1
      const h = entropy(logProbsAll(maskLogits(lt, mask))).arraySync();
      const p = ref0.map(Math.exp);
      const hRef = -[0, 1, 3].reduce((s, i) => s + p[i] * ref0[i], 0);
      expect(h[0]).toBeCloseTo(hRef, 5);
      expect(h[1]).toBeCloseTo(0, 6);
      const g = tf
        .grad((x: tf.Tensor) => tf.sum(entropy(logProbsAll(maskLogits(x as tf.Tensor2D, mask)))))(lt)
        .dataSync();
      expect(Array.from(g).every(Number.isFinite)).toBe(true);
      expect(g[2]).toBe(0);
    });
  });

  it('samples only allowed actions, in proportion to their probabilities, reproducibly', () => {
    const logits = Float32Array.from([0, Math.log(3), 50, 0]);
    const mask = Uint8Array.from([1, 1, 0, 0]);
    const counts = [0, 0, 0, 0];
    const rng = new Rng(1);
    const many = 4000;
    const rows = new Float32Array(many * 4);
    const masks = new Uint8Array(many * 4);
    for (let i = 0; i < many; i++) {
      rows.set(logits, i * 4);
      masks.set(mask, i * 4);
    }
    const a = sampleMasked(rows, masks, 4, rng);
    a.forEach((v) => counts[v]++);
    expect(counts[2] + counts[3]).toBe(0);
    expect(counts[1] / many).toBeGreaterThan(0.72);
    expect(counts[1] / many).toBeLessThan(0.78);
    expect(Array.from(sampleMasked(rows, masks, 4, new Rng(1)))).toEqual(Array.from(a));
    expect(() => sampleMasked(logits, new Uint8Array(4), 4, rng)).toThrow(/allows no action/);
  });

  it('argmax skips masked actions (also when a masked one scores highest)', () => {
    const q = Float32Array.from([1, 9, 3, 3, 0, 0]);
    expect(Array.from(argmaxMasked(q, Uint8Array.from([1, 0, 1, 1, 1, 1]), 3))).toEqual([2, 0]);
    expect(Array.from(argmaxMasked(q, Uint8Array.from([1, 0, 0, 0, 1, 0]), 3))).toEqual([0, 1]);
  });
});

describe('PPO loss', () => {
  const logits = [0, 1, 2, 1, 1, 1];
  const mask = Uint8Array.from([1, 1, 1, 1, 0, 1]);
  const inputs = {
    actions: Int32Array.from([2, 0]),
    oldLogProbs: Float32Array.from([-0.7, -0.9]),
    oldValues: Float32Array.from([0.4, 0.0]),
    advantages: Float32Array.from([1, -2]),
    returns: Float32Array.from([1.0, -1.0]),
  };
  const values = [0.5, -0.3];

  function reference(clipVf: number | null): Record<string, number> {
    // Row 0: log softmax of [0, 1, 2]; row 1: two allowed actions with equal logits -> log 1/2.
    const lse0 = Math.log(Math.exp(0) + Math.exp(1) + Math.exp(2));
    const newLp = [2 - lse0, Math.log(0.5)];
    const ratio = newLp.map((l, i) => Math.exp(l - inputs.oldLogProbs[i]));
    const clip = (r: number): number => Math.min(Math.max(r, 0.8), 1.2);
    const pg = ratio.map((r, i) => Math.max(-inputs.advantages[i] * r, -inputs.advantages[i] * clip(r)));
    const pgLoss = (pg[0] + pg[1]) / 2;
    const sq = values.map((v, i) => (v - inputs.returns[i]) ** 2);
    let vl: number;
    if (clipVf === null) vl = (0.5 * (sq[0] + sq[1])) / 2;
    else {
      const vc = values.map(
        (v, i) => inputs.oldValues[i] + Math.min(Math.max(v - inputs.oldValues[i], -clipVf), clipVf),
      );
      const sc = vc.map((v, i) => (v - inputs.returns[i]) ** 2);
      vl = (0.5 * (Math.max(sq[0], sc[0]) + Math.max(sq[1], sc[1]))) / 2;
    }
    const p0 = [0, 1, 2].map((x) => Math.exp(x - lse0));
    const h0 = -p0.reduce((s, p) => s + p * Math.log(p), 0);
    const h1 = Math.log(2);
    const entropyLoss = -(h0 + h1) / 2;
    const approxKl = ratio.reduce((s, r) => s + (r - 1) - Math.log(r), 0) / 2;
    const clipFraction = ratio.filter((r) => Math.abs(r - 1) > 0.2).length / 2;
    return { pgLoss, valueLoss: vl, entropyLoss, approxKl, clipFraction, loss: pgLoss + 0.01 * entropyLoss + 0.5 * vl };
  }

  it.each([null, 0.1])('matches hand-computed terms (clipRangeVf = %p)', (clipVf) => {
    const want = reference(clipVf);
    // Both ratios leave [0.8, 1.2]: row 0 (A > 0) takes the clipped term, row 1 (A < 0) the unclipped one.
    expect(want.clipFraction).toBe(1);
    tf.tidy(() => {
      const terms = ppoLoss(
        { ...inputs, logits: tf.tensor2d(logits, [2, 3]), actionMask: mask, values: tf.tensor1d(values) },
        { clipRange: 0.2, clipRangeVf: clipVf, entCoef: 0.01, vfCoef: 0.5 },
      );
      for (const k of Object.keys(want)) {
        expect((terms as unknown as Record<string, tf.Scalar>)[k].dataSync()[0]).toBeCloseTo(want[k], 5);
      }
    });
  });

  it('normalises advantages with the unbiased std and leaves a single sample alone', () => {
    const n = normalizeAdvantages(Float32Array.from([1, 2, 3, 6]));
    const std = Math.sqrt(((1 - 3) ** 2 + 1 + 0 + 9) / 3);
    expect(n[0]).toBeCloseTo(-2 / std, 5);
    expect(n[3]).toBeCloseTo(3 / std, 5);
    expect(Array.from(normalizeAdvantages(Float32Array.from([5])))).toEqual([5]);
  });
});
