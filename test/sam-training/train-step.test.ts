import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import type { SamConfig } from '../../src/sam/config';
import { smallSamVariant } from '../sam/small-sam';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { samVariables } from '../../src/sam/weights/variables';
import { Adam } from '../../src/nn/adam';
import { prepareTrainSample, trainStep } from '../../src/sam-training/train-step';
import { Rng } from '../../src/utils/rng';

beforeAll(async () => {
  await initBackend('wasm');
});

const tiny: SamConfig = smallSamVariant(
  'tiny',
  { imgSize: 32, patchSize: 4, depth: 2, windowSize: 4, globalAttnIndexes: [1] },
  { depth: 1 },
);

// A bright disc on a dark background.
const S = 32;
const image = { width: S, height: S, data: new Uint8Array(S * S * 3) };
const mask = new Uint8Array(S * S);
for (let y = 0; y < S; y++) {
  for (let x = 0; x < S; x++) {
    const inside = (x - 12) ** 2 + (y - 14) ** 2 < 49;
    mask[y * S + x] = inside ? 1 : 0;
    image.data.fill(inside ? 220 : 30, (y * S + x) * 3, (y * S + x) * 3 + 3);
  }
}

describe('trainStep', () => {
  it('lowers the loss on a fixed scene, updates every trainable weight, and leaks no tensors', () => {
    const vars = samVariables(tiny, randomSamWeights(tiny, 0));
    const before = new Map([...vars].map(([k, v]) => [k, v.dataSync().slice()]));
    const opt = new Adam(vars);
    const rng = new Rng(0);
    const opts = { iterations: 2, promptSets: 1, boxProb: 0, oracleProb: 0.5, learningRate: 3e-3, clipNorm: 1 };
    const samples = [prepareTrainSample(tiny, image, mask)];
    const losses: number[] = [];
    let tensorsAfterFirst = 0;
    for (let i = 0; i < 25; i++) {
      losses.push(trainStep(tiny, vars, opt, samples, rng, opts).loss);
      if (i === 1) tensorsAfterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.7 * mean(losses.slice(0, 5)));
    // Without box prompts (boxProb 0) the two box-corner embeddings get no gradient. A key bias
    // has a zero gradient in exact arithmetic (it shifts a softmax row's logits equally) and moves
    // only by round-off, so it is not checked. A multimask output's hypernetwork learns only when
    // its mask has the lowest loss (SAM's rule), so at least one of the three must move. Every
    // other trainable weight (the mask-input convs included, via the corrective rounds) must
    // move, and the frozen buffer must not.
    const boxCorners = new Set([
      'prompt_encoder.point_embeddings.2.weight',
      'prompt_encoder.point_embeddings.3.weight',
    ]);
    const changed = (name: string) =>
      vars
        .get(name)!
        .dataSync()
        .some((x, i) => x !== before.get(name)![i]);
    const multimaskHeads = /^mask_decoder\.output_hypernetworks_mlps\.[1-3]\./;
    for (const [name, v] of vars) {
      if (name.endsWith('k_proj.bias') || multimaskHeads.test(name)) continue;
      expect([name, changed(name)]).toEqual([name, v.trainable && !boxCorners.has(name)]);
    }
    expect([1, 2, 3].some((k) => changed(`mask_decoder.output_hypernetworks_mlps.${k}.layers.0.weight`))).toBe(true);
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }, 30_000);

  it('prepares a larger image by resizing it to the input and pooling its mask to the low-res frame', () => {
    const big = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    const bigMask = new Uint8Array(64 * 64);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) bigMask[y * 64 + x] = mask[(y >> 1) * S + (x >> 1)];
    const smp = prepareTrainSample(tiny, big, bigMask);
    expect(smp.input.length).toBe(32 * 32 * 3);
    expect(smp.gtLow.length).toBe(32 * 32);
    expect(Array.from(smp.gtLow)).toEqual(Array.from(prepareTrainSample(tiny, image, mask).gtLow));
    // The disc spans x 6..18, y 8..20 at 32 px (radius 7 around (12, 14), strict inequality).
    expect(smp.boxXYXY).toEqual([6, 8, 19, 21]);
    expect(() => prepareTrainSample(tiny, big, new Uint8Array(64 * 64))).toThrow(/empty at the low-res frame/);
    expect(() =>
      prepareTrainSample(tiny, { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3) }, new Uint8Array(64 * 32)),
    ).toThrow(/square/);
  });

  it('decodes several prompt chains on several images in one step, without leaking tensors', () => {
    const vars = samVariables(tiny, randomSamWeights(tiny, 2));
    const opt = new Adam(vars);
    const rng = new Rng(3);
    const samples = [prepareTrainSample(tiny, image, mask), prepareTrainSample(tiny, image, mask)];
    const before = tf.memory().numTensors;
    const r = trainStep(tiny, vars, opt, samples, rng, {
      iterations: 2,
      promptSets: 2,
      boxProb: 0.5,
      oracleProb: 0.5,
      learningRate: 1e-3,
      clipNorm: 1,
    });
    expect(r.roundIous).toHaveLength(2);
    for (const v of r.roundIous) expect(v).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  });
});
