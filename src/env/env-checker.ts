/**
 * An env checker after Gymnasium's `check_env`: it drives an env through the contract and lists
 * every violation it finds in one error. It is meant for tests (every env the project ships must
 * pass it) and for users writing their own envs.
 */
import { Dict } from './spaces/dict';
import { Discrete } from './spaces/discrete';
import { isSpace, Space } from './spaces/space';
import { isTypedArrayOf } from './spaces/typed-array';
import { cloneValue, deepEqual, firstDifference } from './spaces/values';
import type { Env, RgbImage } from './types';

export interface CheckEnvOptions {
  /** Seed for the reset-determinism checks and the action sampler. Default 123. */
  seed?: number;
  /** Steps to take with sampled actions (resetting when an episode ends). Default 10. */
  steps?: number;
  /**
   * An observation key holding a Uint8Array mask of valid actions for a Discrete action space;
   * when present, sampled actions honour it. Default 'actionMask'.
   */
  actionMaskKey?: string;
  skipRenderCheck?: boolean;
  /** Call close() at the end (default true). */
  checkClose?: boolean;
}

export interface CheckEnvReport {
  /** Things that are legal but risky (e.g. observations whose buffers the env reuses). */
  warnings: string[];
}

export class EnvCheckError extends Error {
  constructor(readonly failures: string[]) {
    super(
      `Env check failed (${failures.length} problem${failures.length === 1 ? '' : 's'}):\n- ${failures.join('\n- ')}`,
    );
    this.name = 'EnvCheckError';
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

function whyNotIn(space: Space<unknown>, x: unknown): string | null {
  if (space instanceof Dict) return space.explain(x);
  return space.contains(x) ? null : `value is not in ${space.toString()}`;
}

/** Paths at which two observations hold the very same typed array object. */
function sharedBuffers(a: unknown, b: unknown, path = 'observation'): string[] {
  if (ArrayBuffer.isView(a)) return a === b ? [path] : [];
  if (!isPlainObject(a) || !isPlainObject(b)) return [];
  return Object.keys(a).flatMap((k) => sharedBuffers(a[k], b[k], `${path}.${k}`));
}

function formatAction(a: unknown): string {
  if (ArrayBuffer.isView(a)) return `[${Array.from(a as unknown as ArrayLike<number>).join(', ')}]`;
  if (typeof a === 'object' && a !== null) return '{...}';
  return String(a);
}

/** Null when `img` is a valid render result, else what is wrong with it. */
export function explainRender(img: unknown): string | null {
  if (img === null) return null;
  if (!isPlainObject(img)) return `render() must return null or {width, height, data}, got ${typeof img}`;
  const { width, height, data } = img as Partial<RgbImage>;
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0) {
    return `render(): width and height must be positive integers, got ${width} x ${height}`;
  }
  if (!isTypedArrayOf(data, 'Uint8Array')) return 'render(): data must be a Uint8Array (HWC RGB)';
  const want = (width as number) * (height as number) * 3;
  if (data.length !== want) return `render(): data has ${data.length} bytes, ${width}x${height}x3 needs ${want}`;
  return null;
}

/**
 * Validates `env` against the contract in `types.ts`; throws EnvCheckError listing every failure.
 * Checked: both spaces are Spaces; `reset` returns {observation, info} with the observation in the
 * space and a plain-object info; resetting twice with the same seed gives deeply equal observations;
 * `step` accepts actions sampled from the action space and returns an in-space observation, a finite
 * number reward, boolean terminated/truncated and a plain-object info; the same seed and actions
 * replay the same trajectory; `render` returns null or a valid RGB image; `close` resolves.
 */
export async function checkEnv(env: Env<unknown, unknown>, options: CheckEnvOptions = {}): Promise<CheckEnvReport> {
  const seed = options.seed ?? 123;
  const nSteps = options.steps ?? 10;
  const maskKey = options.actionMaskKey ?? 'actionMask';
  const failures: string[] = [];
  const warnings: string[] = [];
  const fail = (msg: string) => failures.push(msg);

  if (env === null || typeof env !== 'object') throw new EnvCheckError(['env is not an object']);
  for (const m of ['reset', 'step', 'render', 'close'] as const) {
    if (typeof env[m] !== 'function') fail(`env.${m} is not a function`);
  }
  const obsSpace = env.observationSpace;
  const actSpace = env.actionSpace;
  if (!isSpace(obsSpace)) fail('observationSpace is not a Space');
  if (!isSpace(actSpace)) fail('actionSpace is not a Space');
  if (failures.length > 0) throw new EnvCheckError(failures);

  const tryCall = async <T>(what: string, f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> => {
    try {
      return { ok: true, value: await f() };
    } catch (e) {
      fail(`${what} threw: ${(e as Error).message}`);
      return { ok: false };
    }
  };

  const checkReset = (what: string, r: unknown): unknown => {
    if (!isPlainObject(r) || !('observation' in r) || !('info' in r)) {
      fail(`${what} must return {observation, info}, got ${JSON.stringify(Object.keys((r as object) ?? {}))}`);
      return undefined;
    }
    const why = whyNotIn(obsSpace, r.observation);
    if (why) fail(`${what}: observation is not in observationSpace: ${why}`);
    if (!isPlainObject(r.info)) fail(`${what}: info must be a plain object`);
    return r.observation;
  };

  // reset, plain and seeded
  const plain = await tryCall('reset()', () => env.reset());
  if (!plain.ok) throw new EnvCheckError(failures);
  checkReset('reset()', plain.value);
  const first = await tryCall(`reset({seed: ${seed}})`, () => env.reset({ seed }));
  if (!first.ok) throw new EnvCheckError(failures);
  const obsA = cloneValue(checkReset(`reset({seed: ${seed}})`, first.value));
  const second = await tryCall(`reset({seed: ${seed}}) again`, () => env.reset({ seed }));
  if (second.ok) {
    const obsB = checkReset(`reset({seed: ${seed}}) again`, second.value);
    if (!deepEqual(obsA, obsB)) {
      fail(`reset with the same seed gave different observations (first difference at ${firstDifference(obsA, obsB)})`);
    }
    const shared = sharedBuffers(first.value.observation, second.value.observation);
    if (shared.length > 0) {
      warnings.push(
        `observations share typed arrays across calls (${shared.join(', ')}): the env reuses its buffers, so callers must copy observations they keep`,
      );
    }
  }
  const withOptions = await tryCall('reset({options: {}})', () => env.reset({ options: {} }));
  if (withOptions.ok) checkReset('reset({options: {}})', withOptions.value);

  // steps with sampled actions, twice from the same seed (determinism)
  const sampleAction = (obs: unknown): unknown => {
    const mask = isPlainObject(obs) ? obs[maskKey] : undefined;
    if (
      actSpace instanceof Discrete &&
      isTypedArrayOf(mask, 'Uint8Array') &&
      mask.length === actSpace.n &&
      mask.some((v) => v === 1)
    ) {
      return actSpace.sample(mask);
    }
    return actSpace.sample();
  };
  interface Trace {
    observations: unknown[];
    rewards: number[];
    flags: string[];
  }
  const rollout = async (label: string): Promise<Trace | null> => {
    actSpace.seed(seed);
    const trace: Trace = { observations: [], rewards: [], flags: [] };
    const start = await tryCall(`${label}: reset({seed: ${seed}})`, () => env.reset({ seed }));
    if (!start.ok) return null;
    let obs = cloneValue(start.value.observation);
    for (let i = 0; i < nSteps; i++) {
      const action = sampleAction(obs);
      if (!actSpace.contains(action))
        fail(`actionSpace.sample() returned ${String(action)}, which the space does not contain`);
      const stepped = await tryCall(`${label}: step(${formatAction(action)}) at step ${i}`, () => env.step(action));
      if (!stepped.ok) return null;
      const r = stepped.value as unknown;
      if (!isPlainObject(r)) {
        fail(`step() must return an object, got ${typeof r}`);
        return null;
      }
      const missing = ['observation', 'reward', 'terminated', 'truncated', 'info'].filter((k) => !(k in r));
      if (missing.length > 0) {
        fail(`step() result lacks ${missing.join(', ')}`);
        return null;
      }
      const why = whyNotIn(obsSpace, r.observation);
      if (why) fail(`step ${i}: observation is not in observationSpace: ${why}`);
      if (typeof r.reward !== 'number' || !Number.isFinite(r.reward))
        fail(`step ${i}: reward must be a finite number, got ${String(r.reward)}`);
      if (typeof r.terminated !== 'boolean')
        fail(`step ${i}: terminated must be a boolean, got ${typeof r.terminated}`);
      if (typeof r.truncated !== 'boolean') fail(`step ${i}: truncated must be a boolean, got ${typeof r.truncated}`);
      if (!isPlainObject(r.info)) fail(`step ${i}: info must be a plain object`);
      if (failures.length > 0) return null;
      obs = cloneValue(r.observation);
      trace.observations.push(obs);
      trace.rewards.push(r.reward as number);
      trace.flags.push(`${r.terminated}/${r.truncated}`);
      if (r.terminated || r.truncated) {
        const again = await tryCall(`${label}: reset() after episode end`, () => env.reset());
        if (!again.ok) return null;
        obs = cloneValue(checkReset('reset() after episode end', again.value));
        trace.observations.push(obs);
      }
    }
    return trace;
  };
  const t1 = await rollout('rollout 1');
  if (t1) {
    const t2 = await rollout('rollout 2');
    if (t2) {
      if (!deepEqual(t1.rewards, t2.rewards) || !deepEqual(t1.flags, t2.flags)) {
        fail('the same seed and actions gave different rewards or end flags (step is not deterministic)');
      } else if (!deepEqual(t1.observations, t2.observations)) {
        fail(
          `the same seed and actions gave different observations (at ${firstDifference(t1.observations, t2.observations, 'trajectory')})`,
        );
      }
    }
  }

  if (!options.skipRenderCheck) {
    const img = await tryCall('render()', () => env.render());
    if (img.ok) {
      const why = explainRender(img.value);
      if (why) fail(why);
    }
  }
  if (options.checkClose ?? true) await tryCall('close()', () => env.close());

  if (failures.length > 0) throw new EnvCheckError(failures);
  return { warnings };
}
