/**
 * The whole state of a prompting env between two steps, for resuming training exactly: its sample
 * RNG and the episode in flight. The episode keeps what cannot be recomputed from the data set
 * (the clicks and their labels, SAM's current low-res logits, the labeler's scores taken when the
 * episode began); the sample, its embedding and ground truth, and the mask derived from the logits
 * are rebuilt on restore. The state is plain data and typed arrays, so it crosses to worker threads.
 *
 * On disk (a checkpoint's env.json and env.safetensors): the scalars as JSON, the arrays as tensors
 * named `env<i>/<field>`.
 */
import type { TensorRecord } from '../../io/tensor-record';
import type { RngState } from '../../utils/rng';
import type { PromptObservation } from './observation';

export interface PromptEpisodeState {
  sampleIndex: number;
  /** Agent clicks so far. */
  t: number;
  /** Every prompt point so far (P0 first), original-image pixels, x then y. */
  pointsXY: number[];
  labels: (0 | 1)[];
  /** [G*G] 1 where the agent (or a labeler's P0) clicked. */
  clicked: Uint8Array;
  /** [G*G] the click maps of the observation. */
  clicksPositive: Float32Array;
  clicksNegative: Float32Array;
  /** [L*L] SAM's low-res logits of the current mask; null before the first mask. */
  maskLogits: Float32Array | null;
  /** [G*G] the labeler's cell scores at the episode's start (observeLabeler); null without. */
  labelerScores: Float32Array | null;
}

export interface PromptEnvState {
  rng: RngState;
  seeded: boolean;
  sequentialIndex: number;
  episode: PromptEpisodeState | null;
}

/** What a state must fit: the env's data set, horizon, grid and SAM's low-res side. */
export interface PromptEnvShape {
  datasetLength: number;
  horizon: number;
  numCells: number;
  lowResSide: number;
  labelerScores: boolean;
}

function fail(where: string, field: string, why: string): never {
  throw new Error(`${where}: '${field}' ${why}`);
}

/** An RNG word as Rng.getState gives it (its words may read as signed). */
function isWord(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0xffffffff;
}

function checkArray(
  where: string,
  field: string,
  v: unknown,
  type: 'Uint8Array' | 'Float32Array',
  length: number,
): void {
  // A brand check, not instanceof: states cross realms (worker threads, vm contexts).
  const kind = Object.prototype.toString.call(v).slice(8, -1);
  const got = ArrayBuffer.isView(v) ? (v as unknown as ArrayLike<unknown>).length : -1;
  if (kind !== type || got !== length)
    fail(
      where,
      field,
      `must be a ${type} of length ${length}, got ${got >= 0 ? `${kind}(${got})` : JSON.stringify(v)}`,
    );
}

/** Errors name `where` and the field when `state` cannot be an env of `shape`. */
export function checkPromptEnvState(state: PromptEnvState, shape: PromptEnvShape, where: string): void {
  if (!state || typeof state !== 'object') throw new Error(`${where}: not an env state`);
  if (!Array.isArray(state.rng) || state.rng.length !== 4 || !state.rng.every(isWord))
    fail(where, 'rng', `must be four 32-bit integers, got ${JSON.stringify(state.rng)}`);
  if (typeof state.seeded !== 'boolean')
    fail(where, 'seeded', `must be true or false, got ${JSON.stringify(state.seeded)}`);
  if (!(Number.isInteger(state.sequentialIndex) && state.sequentialIndex >= 0))
    fail(where, 'sequentialIndex', `must be an integer >= 0, got ${JSON.stringify(state.sequentialIndex)}`);
  const ep = state.episode;
  if (ep === null) return;
  if (!ep || typeof ep !== 'object') fail(where, 'episode', 'must be an object or null');
  if (!(Number.isInteger(ep.sampleIndex) && ep.sampleIndex >= 0 && ep.sampleIndex < shape.datasetLength)) {
    fail(
      where,
      'episode.sampleIndex',
      `must be an integer in [0, ${shape.datasetLength}) (the data set's length), got ${JSON.stringify(ep.sampleIndex)}`,
    );
  }
  if (!(Number.isInteger(ep.t) && ep.t >= 0 && ep.t <= shape.horizon))
    fail(where, 'episode.t', `must be an integer in [0, ${shape.horizon}] (the horizon), got ${JSON.stringify(ep.t)}`);
  if (!Array.isArray(ep.labels) || !ep.labels.every((l) => l === 0 || l === 1))
    fail(where, 'episode.labels', 'must be a list of 0 and 1');
  if (ep.labels.length < ep.t) fail(where, 'episode.labels', `has ${ep.labels.length} labels for ${ep.t} clicks`);
  if (
    !Array.isArray(ep.pointsXY) ||
    ep.pointsXY.length !== 2 * ep.labels.length ||
    !ep.pointsXY.every(Number.isFinite)
  ) {
    fail(where, 'episode.pointsXY', `must be ${2 * ep.labels.length} finite numbers (x, y per label)`);
  }
  checkArray(where, 'episode.clicked', ep.clicked, 'Uint8Array', shape.numCells);
  checkArray(where, 'episode.clicksPositive', ep.clicksPositive, 'Float32Array', shape.numCells);
  checkArray(where, 'episode.clicksNegative', ep.clicksNegative, 'Float32Array', shape.numCells);
  if (ep.maskLogits !== null)
    checkArray(where, 'episode.maskLogits', ep.maskLogits, 'Float32Array', shape.lowResSide ** 2);
  else if (ep.labels.length > 0)
    fail(where, 'episode.maskLogits', `is missing, but the episode has ${ep.labels.length} prompts`);
  if (shape.labelerScores) checkArray(where, 'episode.labelerScores', ep.labelerScores, 'Float32Array', shape.numCells);
  else if (ep.labelerScores !== null)
    fail(where, 'episode.labelerScores', 'is set, but the env does not observe a labeler');
}

const ARRAYS = [
  ['clicked', 'clicked', 'uint8'],
  ['clicksPositive', 'clicks_positive', 'float32'],
  ['clicksNegative', 'clicks_negative', 'float32'],
  ['maskLogits', 'mask_logits', 'float32'],
  ['labelerScores', 'labeler_scores', 'float32'],
] as const;

type EpisodeJson = Omit<PromptEpisodeState, (typeof ARRAYS)[number][0]>;
export type PromptEnvStateJson = Omit<PromptEnvState, 'episode'> & { episode: EpisodeJson | null };

/** The states of a vector's envs as JSON plus a tensor record. */
export function promptEnvStatesToRecord(states: readonly PromptEnvState[]): {
  json: PromptEnvStateJson[];
  record: TensorRecord;
} {
  const record: TensorRecord = new Map();
  const json = states.map((s, i) => {
    if (!s.episode) return { ...s, episode: null };
    const { clicked, clicksPositive, clicksNegative, maskLogits, labelerScores, ...scalars } = s.episode;
    const arrays = { clicked, clicksPositive, clicksNegative, maskLogits, labelerScores };
    for (const [field, name, dtype] of ARRAYS) {
      const data = arrays[field];
      if (data) record.set(`env${i}/${name}`, { dtype, shape: [data.length], data });
    }
    return { ...s, episode: scalars };
  });
  return { json, record };
}

/** The inverse of promptEnvStatesToRecord; a missing tensor or a wrong dtype names `source` and the tensor. */
export function promptEnvStatesFromRecord(
  json: readonly PromptEnvStateJson[],
  record: TensorRecord,
  source: string,
): PromptEnvState[] {
  return json.map((s, i) => {
    if (!s || typeof s !== 'object') throw new Error(`${source}: env ${i} is not an env state`);
    if (!s.episode) return { ...s, episode: null };
    const arrays: Record<string, Uint8Array | Float32Array | null> = {};
    for (const [field, name, dtype] of ARRAYS) {
      const t = record.get(`env${i}/${name}`);
      if (t && t.dtype !== dtype)
        throw new Error(`${source}: tensor 'env${i}/${name}' must be ${dtype}, got ${t.dtype}`);
      if (!t && (field === 'clicked' || field === 'clicksPositive' || field === 'clicksNegative'))
        throw new Error(`${source}: tensor 'env${i}/${name}' is missing`);
      arrays[field] = t ? (t.data as Uint8Array | Float32Array) : null;
    }
    return { ...s, episode: { ...s.episode, ...arrays } as PromptEpisodeState };
  });
}

/** A vector of prompting envs whose state can be saved and restored (the sync and the worker vector envs). */
export interface ResumablePromptEnv {
  getState(): Promise<PromptEnvState[]>;
  setState(states: readonly PromptEnvState[], source?: string): Promise<PromptObservation[]>;
}

export function isResumablePromptEnv(env: unknown): env is ResumablePromptEnv {
  return (
    env !== null &&
    typeof env === 'object' &&
    typeof (env as ResumablePromptEnv).getState === 'function' &&
    typeof (env as ResumablePromptEnv).setState === 'function'
  );
}
