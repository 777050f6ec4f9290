/**
 * A prompting env's saved state (getState / setState): restored into fresh envs, through its file
 * form, the envs go on exactly as the originals; a state that does not fit is refused by name
 * before anything changes; the worker vector env saves and restores the same states.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../../src/backend';
import {
  promptEnvStatesFromRecord,
  promptEnvStatesToRecord,
  type PromptEnvState,
} from '../../../src/env/prompt/prompt-env-state';
import type { PromptObservation } from '../../../src/env/prompt/observation';
import { SamPromptVectorEnv } from '../../../src/env/prompt/sam-prompt-vector-env';
import { SamPromptWorkerVectorEnv } from '../../../src/env/prompt/sam-prompt-worker-env';
import type { VectorStepResult } from '../../../src/env/vector/types';
import { SyntheticDataset } from '../../../src/data/synthetic';
import { readSafetensors, writeSafetensors } from '../../../src/io/safetensors';
import { EmbeddingCache } from '../../../src/sam/embedding-cache';
import type { SamModel } from '../../../src/sam/modeling/sam-model';
import { TINY_WEIGHTS, tinySam } from './helpers';

let sam: SamModel;
let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await tinySam();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-state-'));
});
afterAll(() => {
  sam.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const DATA = { seed: 4, length: 5, imageSize: [64, 48] as [number, number] };
const COMMON = { labelSource: 'agent' as const, gridSize: 4, horizon: 3, initialPrompts: 'ground-truth' as const };

function localEnv(cache = new EmbeddingCache(sam)): SamPromptVectorEnv {
  return new SamPromptVectorEnv({
    numEnvs: 3,
    seed: 9,
    dataset: new SyntheticDataset(DATA),
    embeddings: cache,
    autoresetMode: 'same-step',
    ...COMMON,
  });
}

/** Step k of a fixed script: env i clicks its (k + i)-th allowed action. */
function actionsFor(observations: readonly PromptObservation[], k: number): number[] {
  return observations.map((o, i) => {
    const allowed = [...o.actionMask.keys()].filter((a) => o.actionMask[a] === 1);
    return allowed[(k * 5 + i) % allowed.length];
  });
}

/** What an agent sees of a step, as plain arrays. */
function seen(r: {
  observations: PromptObservation[];
  rewards?: ArrayLike<number>;
  infos?: VectorStepResult<PromptObservation>['infos'];
}) {
  return {
    observations: r.observations.map((o) => ({
      key: o.embedding.key,
      maskProbs: Array.from(o.maskProbs),
      pos: Array.from(o.clicksPositive),
      neg: Array.from(o.clicksNegative),
      mask: Array.from(o.actionMask),
      t: o.stepFraction,
    })),
    rewards: r.rewards ? Array.from(r.rewards) : null,
    samples: r.infos ? r.infos.map((i) => i.sample_index) : null,
  };
}

async function run(
  env: { step(a: number[]): Promise<VectorStepResult<PromptObservation>> },
  first: PromptObservation[],
  from: number,
  steps: number,
) {
  let obs = first;
  const out = [];
  for (let k = from; k < from + steps; k++) {
    const r = await env.step(actionsFor(obs, k));
    out.push(seen(r));
    obs = r.observations;
  }
  return out;
}

/** States with plain arrays (typed arrays from a worker thread belong to another realm). */
function plain(states: PromptEnvState[]): unknown {
  return JSON.parse(JSON.stringify(states, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)));
}

/** Through the checkpoint's file form: JSON text and a safetensors file. */
async function viaFile(states: PromptEnvState[]): Promise<PromptEnvState[]> {
  const { json, record } = promptEnvStatesToRecord(states);
  const file = path.join(dir, 'env.safetensors');
  await writeSafetensors(file, record);
  return promptEnvStatesFromRecord(JSON.parse(JSON.stringify(json)), (await readSafetensors(file)).tensors, file);
}

test('a restored vector env goes on exactly as the original, episodes in flight and sample draws included', async () => {
  const a = localEnv();
  let obs = (await a.reset({ seed: 9 })).observations;
  // 4 steps of horizon-3 episodes: every env is one click into its second episode.
  for (let k = 0; k < 4; k++) obs = (await a.step(actionsFor(obs, k))).observations;
  const states = await viaFile(await a.getState());
  expect(states.every((s) => s.episode!.t === 1 && s.episode!.maskLogits !== null)).toBe(true);

  const b = localEnv();
  const restored = await b.setState(states, 'saved');
  expect(seen({ observations: restored })).toEqual(seen({ observations: obs }));
  // 7 more steps: the episodes in flight end, and the next samples come from the restored RNGs.
  expect(await run(b, restored, 4, 7)).toEqual(await run(a, obs, 4, 7));
  await a.close();
  await b.close();
});

test('a state that does not fit is refused by file and field before any env changes', async () => {
  const a = localEnv();
  const obs = (await a.reset({ seed: 9 })).observations;
  const good = await a.getState();
  const b = localEnv();
  const bObs = (await b.reset({ seed: 9 })).observations;
  const bad = good.map((s, i) => (i === 2 ? { ...s, episode: { ...s.episode!, t: 7 } } : s));
  await expect(b.setState(bad, 'ckpt/run.json')).rejects.toThrow(
    "ckpt/run.json: env 2: 'episode.t' must be an integer in [0, 3]",
  );
  const short = good.map((s, i) =>
    i === 1 ? { ...s, episode: { ...s.episode!, maskLogits: new Float32Array(5) } } : s,
  );
  await expect(b.setState(short, 'ckpt/run.json')).rejects.toThrow(
    "ckpt/run.json: env 1: 'episode.maskLogits' must be a Float32Array of length",
  );
  await expect(b.setState(good.slice(1), 'ckpt/run.json')).rejects.toThrow('ckpt/run.json: 2 env states for 3 envs');
  // b is where it was: it steps as a, which saw the same reset.
  expect(await run(b, bObs, 0, 2)).toEqual(await run(a, obs, 0, 2));
  const { record } = promptEnvStatesToRecord(good);
  record.delete('env0/clicks_positive');
  expect(() => promptEnvStatesFromRecord(promptEnvStatesToRecord(good).json, record, 'ckpt/env.safetensors')).toThrow(
    "ckpt/env.safetensors: tensor 'env0/clicks_positive' is missing",
  );
  await a.close();
  await b.close();
});

test('the worker vector env saves the states of its envs in one thread and restores them', async () => {
  const cacheDir = path.join(dir, 'cache');
  const workers = await SamPromptWorkerVectorEnv.create({
    numEnvs: 3,
    numWorkers: 2,
    seed: 9,
    env: { checkpoint: TINY_WEIGHTS, cacheDir, data: { type: 'synthetic', ...DATA }, backend: 'wasm', ...COMMON },
    embeddings: new EmbeddingCache(sam, { dir: cacheDir }),
  });
  const local = localEnv(new EmbeddingCache(sam, { dir: cacheDir }));
  try {
    let wObs = (await workers.reset({ seed: 9 })).observations;
    let lObs = (await local.reset({ seed: 9 })).observations;
    for (let k = 0; k < 2; k++) {
      wObs = (await workers.step(actionsFor(wObs, k))).observations;
      lObs = (await local.step(actionsFor(lObs, k))).observations;
    }
    const states = await workers.getState();
    expect(plain(states)).toEqual(plain(await local.getState()));
    // The workers continue from another env's state as that env does.
    for (let k = 0; k < 3; k++) lObs = (await local.step(actionsFor(lObs, k + 2))).observations;
    const later = await local.getState();
    const restored = await workers.setState(later, 'saved');
    expect(seen({ observations: restored })).toEqual(seen({ observations: lObs }));
    expect(await run(workers, restored, 5, 4)).toEqual(await run(local, lObs, 5, 4));
  } finally {
    await workers.close();
    await local.close();
  }
});
