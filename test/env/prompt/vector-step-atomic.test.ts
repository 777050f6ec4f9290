/**
 * A vector step with one bad action changes no env: every action is checked (range, action mask)
 * before any env records a click, for every label source.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../../src/backend';
import { SyntheticDataset } from '../../../src/data/synthetic';
import type { ClickLabeler } from '../../../src/env/prompt/labeler';
import type { PromptObservation } from '../../../src/env/prompt/observation';
import { SamPromptVectorEnv } from '../../../src/env/prompt/sam-prompt-vector-env';
import { SamPromptWorkerVectorEnv } from '../../../src/env/prompt/sam-prompt-worker-env';
import { SyncVectorEnv } from '../../../src/env/vector/sync-vector-env';
import { EmbeddingCache } from '../../../src/sam/embedding-cache';
import { SamModel } from '../../../src/sam/modeling/sam-model';
import { BrightCellsEnv } from '../../agent/bright-cells-env';
import { cacheFor, smallSynthetic, TINY_WEIGHTS, tinySam } from './helpers';

let sam: SamModel;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await tinySam();
});
afterAll(() => sam.dispose());

const labeler: ClickLabeler = {
  async labelClicks(reqs) {
    return reqs.map((r) => (r.cell % 2 === 0 ? 1 : 0));
  },
  async scoreCells(obs) {
    return obs.map(() => Float32Array.from({ length: 16 }, (_, c) => c / 20));
  },
};

function makeEnv(labelSource: 'oracle' | 'agent' | 'recalibration'): SamPromptVectorEnv {
  return new SamPromptVectorEnv({
    dataset: smallSynthetic(6),
    embeddings: cacheFor(sam),
    labelSource,
    labeler: labelSource === 'recalibration' ? labeler : undefined,
    initialPrompts: 'ground-truth',
    horizon: 3,
    gridSize: 4,
    numEnvs: 2,
    seed: 5,
  });
}

/** What a step leaves behind in env i: its clicks and mask. */
function stateOf(venv: SamPromptVectorEnv, i: number): unknown {
  const o = venv.envs[i].observation();
  return {
    pos: Array.from(o.clicksPositive),
    neg: Array.from(o.clicksNegative),
    mask: Array.from(o.actionMask),
    t: o.stepFraction,
    probs: Array.from(o.maskProbs),
  };
}

function firstAllowed(o: PromptObservation): number {
  return o.actionMask.indexOf(1);
}

function firstMasked(o: PromptObservation): number {
  return o.actionMask.indexOf(0);
}

describe.each(['oracle', 'agent', 'recalibration'] as const)(
  'SamPromptVectorEnv.step with label source %s',
  (labelSource) => {
    it('refuses an out-of-range or masked action for env 1 without changing env 0, and steps on as if it never happened', async () => {
      const venv = makeEnv(labelSource);
      const ref = makeEnv(labelSource);
      const first = (await venv.reset({ seed: 3 })).observations;
      await ref.reset({ seed: 3 });
      // One click each, so that a cell is masked.
      const obs = (await venv.step(first.map(firstAllowed))).observations;
      await ref.step(first.map(firstAllowed));
      const before = [stateOf(venv, 0), stateOf(venv, 1)];
      const nActions = obs[0].actionMask.length;
      const good = firstAllowed(obs[0]);
      expect(firstMasked(obs[1])).toBeGreaterThanOrEqual(0);

      await expect(venv.step([good, nActions])).rejects.toThrow(
        new RegExp(`env 1: .*action ${nActions} .*no env was stepped`),
      );
      await expect(venv.step([good, firstMasked(obs[1])])).rejects.toThrow(/env 1: .*already clicked/);
      await expect(venv.step([good, -1])).rejects.toThrow(/env 1/);
      await expect(venv.step([good, 1.5])).rejects.toThrow(/env 1/);
      expect([stateOf(venv, 0), stateOf(venv, 1)]).toEqual(before);

      const actions = [good, firstAllowed(obs[1])];
      const a = await venv.step(actions);
      const b = await ref.step(actions);
      expect(Array.from(a.rewards)).toEqual(Array.from(b.rewards));
      expect(a.infos.map((x) => x.labels)).toEqual(b.infos.map((x) => x.labels));
      expect([stateOf(venv, 0), stateOf(venv, 1)]).toEqual([stateOf(ref, 0), stateOf(ref, 1)]);
      await venv.close();
      await ref.close();
    });
  },
);

it('SyncVectorEnv refuses an action outside the action space before stepping any env', async () => {
  const envs = [0, 1].map((i) => new BrightCellsEnv({ name: `atomic${i}`, seed: i }));
  const venv = new SyncVectorEnv(envs.map((e) => () => e));
  const obs = (await venv.reset({ seed: 1 })).observations;
  const before = Array.from(obs[0].actionMask);
  await expect(venv.step([0, 99])).rejects.toThrow(/env 1: .*99/);
  const after = await venv.step([0, 1]);
  // Env 0's click on cell 0 is its first: the refused step did not click it.
  expect(before[0]).toBe(1);
  expect(after.observations[0].actionMask[0]).toBe(0);
  expect(after.observations[0].stepFraction).toBeCloseTo(1 / 3, 6);
  await venv.close();
});

it('SamPromptWorkerVectorEnv refuses a bad action for an env of the second worker before the first worker steps', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-worker-'));
  const common = { labelSource: 'oracle' as const, gridSize: 4, horizon: 3 };
  const workers = await SamPromptWorkerVectorEnv.create({
    numEnvs: 2,
    numWorkers: 2,
    seed: 9,
    env: {
      checkpoint: TINY_WEIGHTS,
      cacheDir: dir,
      data: { type: 'synthetic', seed: 4, length: 5, imageSize: [64, 48] },
      backend: 'wasm',
      ...common,
    },
    embeddings: new EmbeddingCache(sam, { dir }),
  });
  const local = new SamPromptVectorEnv({
    numEnvs: 2,
    seed: 9,
    dataset: new SyntheticDataset({ seed: 4, length: 5, imageSize: [64, 48] }),
    embeddings: new EmbeddingCache(sam),
    ...common,
  });
  try {
    await workers.reset({ seed: 5 });
    await local.reset({ seed: 5 });
    await workers.step([0, 4]);
    await local.step([0, 4]);
    await expect(workers.step([1, 16])).rejects.toThrow(/env 1: .*action 16 .*no env was stepped/);
    await expect(workers.step([1, 4])).rejects.toThrow(/env 1: .*already clicked.*no env was stepped/);
    const x = await workers.step([1, 5]);
    const y = await local.step([1, 5]);
    expect(Array.from(x.rewards)).toEqual(Array.from(y.rewards));
    x.observations.forEach((o, i) =>
      expect(Array.from(o.actionMask)).toEqual(Array.from(y.observations[i].actionMask)),
    );
    expect(x.infos.map((i) => i.labels)).toEqual(y.infos.map((i) => i.labels));
  } finally {
    await workers.close();
    await local.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
