/**
 * The vector-env contract the agents train on, and an adapter that turns a single Env (or a list
 * of them) into one.
 *
 * Autoreset is Gymnasium 1.x's 'same-step' mode (Stable-Baselines3's VecEnv behaves the same): when
 * env i ends at a step, that step returns the first observation of its next episode, and
 * `infos[i].final_observation` / `infos[i].final_info` hold the last observation and info of the
 * episode that ended. Trainers bootstrap truncated episodes from `final_observation`.
 */
import type { Env, Info } from '../env/types';

export interface VecResetResult<Obs> {
  observations: Obs[];
  infos: Info[];
}

export interface VecStepResult<Obs> {
  observations: Obs[];
  rewards: ArrayLike<number>;
  /** true / 1 where the episode reached a terminal state on this step. */
  terminated: ArrayLike<boolean | number>;
  /** true / 1 where the episode was cut (time limit) on this step. */
  truncated: ArrayLike<boolean | number>;
  infos: Info[];
}

export interface AgentVecEnv<Obs = unknown> {
  readonly numEnvs: number;
  /** When present it must be 'same-step'. */
  readonly autoresetMode?: string;
  reset(opts?: { seed?: number }): Promise<VecResetResult<Obs>>;
  step(actions: ArrayLike<number>): Promise<VecStepResult<Obs>>;
  close(): Promise<void>;
}

/** The final observation of an episode that ended at this step (same-step autoreset). */
export function finalObservationOf<Obs>(info: Info | undefined, where: string): Obs {
  const v = info?.final_observation ?? info?.final_obs;
  if (v === undefined) {
    throw new Error(`${where}: an episode ended but infos has no 'final_observation' (the vector env must autoreset in 'same-step' mode)`);
  }
  return v as Obs;
}

export function isVecEnv(x: unknown): x is AgentVecEnv {
  return x !== null && typeof x === 'object' && typeof (x as AgentVecEnv).numEnvs === 'number' && typeof (x as AgentVecEnv).step === 'function';
}

function isEnv(x: unknown): x is Env<unknown, unknown> {
  return x !== null && typeof x === 'object' && typeof (x as Env).step === 'function' && typeof (x as Env).reset === 'function';
}

/**
 * Steps a list of envs one after another with same-step autoreset. `reset({seed})` seeds env i
 * with seed + i (Gymnasium's convention); later resets are unseeded, so each env continues its own
 * random stream.
 */
export class SequentialVecEnv<Obs = unknown> implements AgentVecEnv<Obs> {
  readonly envs: Env<Obs, number>[];

  constructor(envs: Env<Obs, number>[]) {
    if (!Array.isArray(envs) || envs.length === 0 || !envs.every(isEnv)) {
      throw new Error('SequentialVecEnv: expected a non-empty array of envs');
    }
    this.envs = envs;
  }

  get numEnvs(): number {
    return this.envs.length;
  }

  async reset(opts: { seed?: number } = {}): Promise<VecResetResult<Obs>> {
    const observations: Obs[] = [];
    const infos: Info[] = [];
    for (let i = 0; i < this.envs.length; i++) {
      const r = await this.envs[i].reset(opts.seed === undefined ? {} : { seed: opts.seed + i });
      observations.push(r.observation);
      infos.push(r.info);
    }
    return { observations, infos };
  }

  async step(actions: ArrayLike<number>): Promise<VecStepResult<Obs>> {
    if (actions.length !== this.envs.length) {
      throw new Error(`SequentialVecEnv.step: got ${actions.length} actions for ${this.envs.length} envs`);
    }
    const n = this.envs.length;
    const out: VecStepResult<Obs> = {
      observations: new Array(n),
      rewards: new Float64Array(n),
      terminated: new Array<boolean>(n),
      truncated: new Array<boolean>(n),
      infos: new Array(n),
    };
    for (let i = 0; i < n; i++) {
      const r = await this.envs[i].step(actions[i]);
      (out.rewards as Float64Array)[i] = r.reward;
      (out.terminated as boolean[])[i] = r.terminated;
      (out.truncated as boolean[])[i] = r.truncated;
      if (r.terminated || r.truncated) {
        const next = await this.envs[i].reset();
        out.observations[i] = next.observation;
        out.infos[i] = { ...next.info, final_observation: r.observation, final_info: r.info };
      } else {
        out.observations[i] = r.observation;
        out.infos[i] = r.info;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const e of this.envs) await e.close();
  }
}

/** A vector env as is; a single env or an array of envs wrapped in a SequentialVecEnv. */
export function asVecEnv<Obs>(env: AgentVecEnv<Obs> | Env<Obs, number> | Env<Obs, number>[]): AgentVecEnv<Obs> {
  if (isVecEnv(env)) {
    const mode = (env as AgentVecEnv<Obs>).autoresetMode;
    if (mode !== undefined && mode !== 'same-step') {
      throw new Error(`the agents need a vector env with autoresetMode 'same-step' (final observations in infos), got '${mode}'`);
    }
    return env as AgentVecEnv<Obs>;
  }
  if (Array.isArray(env)) return new SequentialVecEnv(env);
  if (isEnv(env)) return new SequentialVecEnv([env as Env<Obs, number>]);
  throw new Error('expected an env, an array of envs, or a vector env with numEnvs/reset/step');
}
