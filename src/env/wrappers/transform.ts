import type { Space } from '../spaces/space';
import type { Env, ResetOptions, ResetResult, StepResult } from '../types';
import { Wrapper } from './wrapper';

/**
 * Applies `fn` to every observation from reset and step. Pass the new observation space when `fn`
 * changes the set of observations (as Gymnasium 1.x requires); without it the inner space is kept,
 * which is only right when `fn` maps the space into itself.
 */
export class TransformObservation<Obs, Act, WObs = Obs> extends Wrapper<Obs, Act, WObs, Act> {
  constructor(
    env: Env<Obs, Act>,
    private readonly fn: (observation: Obs) => WObs,
    observationSpace?: Space<WObs>,
  ) {
    super(env);
    this.observationSpaceOverride = observationSpace;
  }

  override async reset(opts?: ResetOptions): Promise<ResetResult<WObs>> {
    const result = await this.env.reset(opts);
    return { ...result, observation: this.fn(result.observation) };
  }

  override async step(action: Act): Promise<StepResult<WObs>> {
    const result = await this.env.step(action);
    return { ...result, observation: this.fn(result.observation) };
  }
}

/** Applies `fn` to every reward (e.g. scaling or clipping). */
export class TransformReward<Obs, Act> extends Wrapper<Obs, Act> {
  constructor(
    env: Env<Obs, Act>,
    private readonly fn: (reward: number) => number,
  ) {
    super(env);
  }

  override async step(action: Act): Promise<StepResult<Obs>> {
    const result = await this.env.step(action);
    return { ...result, reward: this.fn(result.reward) };
  }
}
