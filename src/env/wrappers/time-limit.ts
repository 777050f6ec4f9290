import type { Env, ResetOptions, ResetResult, StepResult } from '../types';
import { Wrapper } from './wrapper';

/**
 * Ends an episode after `maxEpisodeSteps` steps by setting `truncated` (Gymnasium's TimeLimit).
 * `terminated` passes through unchanged, so a step that both terminates and hits the limit reports
 * both flags; the agent must not bootstrap when `terminated` is set.
 */
export class TimeLimit<Obs, Act> extends Wrapper<Obs, Act> {
  private elapsed = 0;

  constructor(
    env: Env<Obs, Act>,
    readonly maxEpisodeSteps: number,
  ) {
    super(env);
    if (!Number.isInteger(maxEpisodeSteps) || maxEpisodeSteps <= 0) {
      throw new Error(`TimeLimit: maxEpisodeSteps must be a positive integer, got ${maxEpisodeSteps}`);
    }
  }

  get elapsedSteps(): number {
    return this.elapsed;
  }

  override async reset(opts?: ResetOptions): Promise<ResetResult<Obs>> {
    this.elapsed = 0;
    return this.env.reset(opts);
  }

  override async step(action: Act): Promise<StepResult<Obs>> {
    const result = await this.env.step(action);
    this.elapsed += 1;
    if (this.elapsed >= this.maxEpisodeSteps) return { ...result, truncated: true };
    return result;
  }
}
