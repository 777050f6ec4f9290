import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend';
import { checkEnv } from '../../../src/env/env-checker';
import { SamPromptEnv } from '../../../src/env/prompt/sam-prompt-env';
import { SamPromptVectorEnv } from '../../../src/env/prompt/sam-prompt-vector-env';
import type { ClickLabeler } from '../../../src/env/prompt/labeler';
import { SamModel } from '../../../src/sam/modeling/sam-model';
import { Rng } from '../../../src/utils/rng';
import { cacheFor, smallSynthetic, tinySam } from './helpers';

let sam: SamModel;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await tinySam();
});
afterAll(() => sam.dispose());

function firstAllowed(mask: Uint8Array, rng: Rng): number {
  const allowed = [...mask.keys()].filter((a) => mask[a]);
  return allowed[rng.int(allowed.length)];
}

test.each(['oracle', 'agent'] as const)('the env checker passes with label source %s', async (labelSource) => {
  const env = new SamPromptEnv({
    dataset: smallSynthetic(),
    embeddings: cacheFor(sam),
    labelSource,
    horizon: 4,
    gridSize: 5,
  });
  const report = await checkEnv(env, { steps: 12 });
  expect(report).toBeDefined();
});

test('an episode follows the paper: P0 from the ground truth, T clicks, then truncation', async () => {
  const env = new SamPromptEnv({
    dataset: smallSynthetic(),
    embeddings: cacheFor(sam),
    labelSource: 'oracle',
    horizon: 5,
    gridSize: 6,
  });
  const { observation, info } = await env.reset({ seed: 3 });
  expect(info.labels).toEqual([1, 0]); // one positive, one negative ground-truth point
  expect(observation.stepFraction).toBe(0);
  expect(observation.maskProbs.length).toBe(sam.gridSize ** 2);
  expect(observation.actionMask.length).toBe(36);
  expect(observation.embedding.tensor.shape).toEqual([8, 8, 32]);
  const rng = new Rng(1);
  let obs = observation;
  const sample = env.currentSample!;
  for (let t = 0; t < 5; t++) {
    const action = firstAllowed(obs.actionMask, rng);
    const r = await env.step(action);
    expect(r.terminated).toBe(false);
    expect(r.truncated).toBe(t === 4);
    // The paper's reward: +1 when the clicked cell centre lies in the target, else -1.
    const [x, y] = env.grid.cellCenterXY(action, sample.width, sample.height);
    const inGt = sample.mask[Math.floor(y) * sample.width + Math.floor(x)] === 1;
    expect(r.reward).toBe(inGt ? 1 : -1);
    // Oracle labels agree with the ground truth, which info gives per cell at the centres.
    expect(r.info.label).toBe(inGt ? 1 : 0);
    expect((r.info.cell_centres as Float32Array)[action]).toBe(inGt ? 1 : 0);
    expect(r.observation.actionMask[action]).toBe(0);
    expect(r.observation.stepFraction).toBeCloseTo((t + 1) / 5);
    expect(typeof r.info.iou).toBe('number');
    obs = r.observation;
  }
  await expect(env.step(firstAllowed(obs.actionMask, rng))).rejects.toThrow(/episode ended/);
  await env.close();
});

test('the same seed gives the same episodes', async () => {
  const run = async () => {
    const env = new SamPromptEnv({
      dataset: smallSynthetic(20),
      embeddings: cacheFor(sam),
      labelSource: 'agent',
      horizon: 3,
      gridSize: 4,
    });
    const out: unknown[] = [];
    const rng = new Rng(5);
    for (let ep = 0; ep < 3; ep++) {
      const { observation, info } = await env.reset(ep === 0 ? { seed: 42 } : {});
      out.push(info.sample_id, info.points);
      let obs = observation;
      for (let t = 0; t < 3; t++) {
        const r = await env.step(firstAllowed(obs.actionMask, rng));
        out.push(r.reward, r.info.iou, Array.from(r.observation.maskProbs.slice(0, 8)));
        obs = r.observation;
      }
    }
    await env.close();
    return out;
  };
  expect(await run()).toEqual(await run());
});

test('clicking a cell twice and acting before reset are errors', async () => {
  const env = new SamPromptEnv({
    dataset: smallSynthetic(),
    embeddings: cacheFor(sam),
    labelSource: 'oracle',
    initialPrompts: 'none',
    horizon: 4,
    gridSize: 4,
  });
  await expect(env.step(0)).rejects.toThrow(/reset/);
  const { observation } = await env.reset({ seed: 0 });
  expect(Array.from(observation.maskProbs).every((p) => p === 1)).toBe(true); // no mask yet: the state is the embedding itself
  await env.step(3);
  await expect(env.step(3)).rejects.toThrow(/already clicked/);
  await expect(env.step(99)).rejects.toThrow(/\[0, 16\)/);
  await env.close();
});

test('the recalibration label source asks the labeler, and its P0 uses the labeler scores', async () => {
  const asked: number[] = [];
  const labeler: ClickLabeler = {
    async labelClicks(reqs) {
      reqs.forEach((r) => asked.push(r.cell));
      return reqs.map((r) => (r.cell % 2 === 0 ? 1 : 0));
    },
    async scoreCells(obs) {
      return obs.map(() => Float32Array.from({ length: 9 }, (_, c) => c / 10));
    },
  };
  const env = new SamPromptEnv({
    dataset: smallSynthetic(),
    embeddings: cacheFor(sam),
    labelSource: 'recalibration',
    labeler,
    initialPrompts: 'labeler',
    horizon: 2,
    gridSize: 3,
  });
  const { observation, info } = await env.reset({ seed: 1 });
  expect(info.labels).toEqual([1, 0]);
  expect(observation.clicksPositive[8]).toBe(1); // highest score: cell 8
  expect(observation.clicksNegative[0]).toBe(1); // lowest: cell 0
  const r = await env.step(4);
  expect(asked).toEqual([4]);
  expect(r.info.label).toBe(1);
  await env.close();
});

test('a vector env decodes all envs in one SAM call per step and matches single envs', async () => {
  const opts = { dataset: smallSynthetic(10), labelSource: 'agent' as const, horizon: 3, gridSize: 4 };
  const venv = new SamPromptVectorEnv({ ...opts, embeddings: cacheFor(sam), numEnvs: 3, seed: 7 });
  const singles = [0, 1, 2].map((i) => new SamPromptEnv({ ...opts, embeddings: cacheFor(sam), seed: 7 + i }));
  const vr = await venv.reset({ seed: 11 });
  const sr = await Promise.all(singles.map((e, i) => e.reset({ seed: 11 + i })));
  sr.forEach((r, i) => expect(vr.infos[i].sample_id).toBe(r.info.sample_id));
  const rng = new Rng(2);
  let obs = vr.observations;
  for (let t = 0; t < 5; t++) {
    const actions = obs.map((o) => firstAllowed(o.actionMask, rng));
    const calls = venv.decodeCalls;
    const v = await venv.step(actions);
    // One batched call for the steps; at an episode boundary one more for the new episodes' P0.
    expect(venv.decodeCalls - calls).toBe(t === 2 ? 2 : 1);
    if (t < 3) {
      const s = await Promise.all(singles.map((e, i) => (t < 3 ? e.step(actions[i]) : null)));
      s.forEach((r, i) => {
        expect(v.rewards[i]).toBe(r!.reward);
        // On the last step the info is the new episode's; the step's own is final_info.
        const info = (t === 2 ? v.infos[i].final_info : v.infos[i]) as { iou: number };
        expect(info.iou).toBe(r!.info.iou);
      });
    }
    if (t === 2) {
      // same-step autoreset: the final observation is kept for bootstrapping
      expect(v.truncated[0]).toBe(1);
      expect(v.infos[0].final_observation).toBeDefined();
      expect(v.observations[0].stepFraction).toBe(0);
    }
    obs = v.observations;
  }
  await venv.close();
  await Promise.all(singles.map((e) => e.close()));
});

test('tensor count stays flat over many steps and resets', async () => {
  const venv = new SamPromptVectorEnv({
    dataset: smallSynthetic(8),
    embeddings: cacheFor(sam),
    labelSource: 'oracle',
    horizon: 4,
    gridSize: 5,
    numEnvs: 2,
  });
  const rng = new Rng(3);
  let obs = (await venv.reset({ seed: 0 })).observations;
  const step = async () => {
    obs = (await venv.step(obs.map((o) => firstAllowed(o.actionMask, rng)))).observations;
  };
  for (let i = 0; i < 40; i++) await step(); // every image of the data set is cached by now
  const before = tf.memory().numTensors;
  for (let i = 0; i < 200; i++) await step();
  expect(tf.memory().numTensors).toBe(before);
  await venv.close();
});

test.each(['none', 'ground-truth'] as const)(
  'tensor count stays flat with P0 %s (three masks for one point, mask input fed back)',
  async (initialPrompts) => {
    const venv = new SamPromptVectorEnv({
      dataset: smallSynthetic(8),
      embeddings: cacheFor(sam),
      labelSource: 'oracle',
      initialPrompts,
      horizon: 3,
      gridSize: 5,
      numEnvs: 2,
    });
    const rng = new Rng(4);
    let obs = (await venv.reset({ seed: 0 })).observations;
    const step = async () => {
      obs = (await venv.step(obs.map((o) => firstAllowed(o.actionMask, rng)))).observations;
    };
    for (let i = 0; i < 30; i++) await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 60; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    await venv.close();
  },
);

test('the previous mask goes back to SAM as mask input, and only a single point asks for three masks', async () => {
  const calls: { points: number; maskInput: boolean; multimask: boolean }[] = [];
  const decode = sam.decode.bind(sam);
  sam.decode = (requests, ...rest) => {
    for (const r of requests)
      calls.push({ points: r.prompt.pointLabels!.length, maskInput: !!r.maskInput, multimask: r.multimaskOutput });
    return decode(requests, ...rest);
  };
  try {
    const env = new SamPromptEnv({
      dataset: smallSynthetic(),
      embeddings: cacheFor(sam),
      labelSource: 'oracle',
      initialPrompts: 'none',
      horizon: 3,
      gridSize: 5,
    });
    const rng = new Rng(2);
    let obs = (await env.reset({ seed: 1 })).observation;
    for (let t = 0; t < 3; t++) obs = (await env.step(firstAllowed(obs.actionMask, rng))).observation;
    await env.close();
    expect(calls).toEqual([
      { points: 1, maskInput: false, multimask: true },
      { points: 2, maskInput: true, multimask: false },
      { points: 3, maskInput: true, multimask: false },
    ]);
    calls.length = 0;
    const plain = new SamPromptEnv({
      dataset: smallSynthetic(),
      embeddings: cacheFor(sam),
      labelSource: 'oracle',
      initialPrompts: 'none',
      horizon: 2,
      gridSize: 5,
      maskInput: false,
      multimaskOutput: false,
    });
    obs = (await plain.reset({ seed: 1 })).observation;
    for (let t = 0; t < 2; t++) obs = (await plain.step(firstAllowed(obs.actionMask, rng))).observation;
    await plain.close();
    expect(calls.every((c) => !c.maskInput && !c.multimask)).toBe(true);
  } finally {
    sam.decode = decode;
  }
});

test('render draws the photo with the clicks', async () => {
  const env = new SamPromptEnv({
    dataset: smallSynthetic(),
    embeddings: cacheFor(sam),
    labelSource: 'oracle',
    horizon: 2,
    gridSize: 4,
  });
  await env.reset({ seed: 2 });
  const img = (await env.render())!;
  const s = env.currentSample!;
  expect([img.width, img.height]).toEqual([s.width, s.height]);
  expect(img.data.length).toBe(s.width * s.height * 3);
  expect(Buffer.from(img.data).equals(Buffer.from(s.image.data))).toBe(false);
  await env.close();
});
