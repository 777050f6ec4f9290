import type { Space } from '../spaces/space';
import type { Info, RgbImage } from '../types';

/**
 * When a sub-env's episode ends, how the vector env resets it (Gymnasium 1.x names).
 *
 * - `next-step` (Gymnasium's default): step t returns the final observation of the ended episode
 *   with its reward and flags. On step t+1 that env's action is ignored; the env is reset and the
 *   step returns the reset observation, reward 0, terminated = truncated = false and the reset info.
 *   Trainers must drop (mask out) the transition from step t+1 for that env.
 * - `same-step` (Stable-Baselines3's convention): the ended env is reset within step t. The step
 *   returns the reward and flags of the final transition but the observation of the NEW episode;
 *   the final observation and the final step's info are in
 *   `infos[i].final_observation` / `infos[i].final_info` (the rest of `infos[i]` is the reset
 *   info). Use `final_observation` to bootstrap a truncated episode's value.
 */
export type AutoresetMode = 'next-step' | 'same-step';

export const AUTORESET_MODES: readonly AutoresetMode[] = ['next-step', 'same-step'];

export interface VectorResetOptions {
  /** One number seeds env i with seed + i (as Gymnasium); an array gives each env its own seed. */
  seed?: number | readonly (number | undefined)[];
  /** Passed to every sub-env's reset. */
  options?: Record<string, unknown>;
}

export interface VectorResetResult<Obs> {
  observations: Obs[];
  infos: Info[];
}

export interface VectorStepResult<Obs> {
  observations: Obs[];
  rewards: Float32Array;
  /** 1 where the sub-env's episode reached a terminal state on this step. */
  terminated: Uint8Array;
  /** 1 where the sub-env's episode was cut (time limit) on this step. */
  truncated: Uint8Array;
  infos: Info[];
}

export interface VectorEnv<Obs = unknown, Act = unknown> {
  readonly numEnvs: number;
  readonly singleObservationSpace: Space<Obs>;
  readonly singleActionSpace: Space<Act>;
  readonly autoresetMode: AutoresetMode;
  reset(opts?: VectorResetOptions): Promise<VectorResetResult<Obs>>;
  step(actions: ArrayLike<Act>): Promise<VectorStepResult<Obs>>;
  render(): Promise<(RgbImage | null)[]>;
  close(): Promise<void>;
}

/** In same-step mode, the last observation of the episode that ended at this step in that env. */
export function finalObservationOf<Obs>(info: Info | undefined, where: string): Obs {
  if (info === undefined || !('final_observation' in info)) {
    throw new Error(
      `${where}: an episode ended but its info has no 'final_observation' (the vector env must autoreset in 'same-step' mode)`,
    );
  }
  return info.final_observation as Obs;
}

/** An error from one sub-env, with its index. */
export class VectorEnvError extends Error {
  constructor(
    readonly envIndex: number,
    readonly operation: string,
    cause: unknown,
  ) {
    super(`env ${envIndex}: ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'VectorEnvError';
  }
}
