/**
 * The environment contract, after Gymnasium 1.x. `reset` and `step` are async because a step may
 * run SAM. `terminated` means the MDP reached a terminal state (no bootstrapping); `truncated`
 * means the episode was cut (time limit), and the value of the final observation should be
 * bootstrapped.
 */
import type { RgbImage } from '../data/types';
import type { Space } from './spaces/space';

export type Info = Record<string, unknown>;

export interface ResetOptions {
  seed?: number;
  options?: Record<string, unknown>;
}

export interface ResetResult<Obs> {
  observation: Obs;
  info: Info;
}

export interface StepResult<Obs> {
  observation: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

export interface Env<Obs = unknown, Act = unknown> {
  readonly observationSpace: Space<Obs>;
  readonly actionSpace: Space<Act>;
  reset(opts?: ResetOptions): Promise<ResetResult<Obs>>;
  step(action: Act): Promise<StepResult<Obs>>;
  /** An RGB image [H, W, 3] uint8 of the current state, or null when the env cannot render. */
  render(): Promise<RgbImage | null>;
  close(): Promise<void>;
}

/** An RGB image, HWC uint8 (the data layer's type). */
export type { RgbImage } from '../data/types';
