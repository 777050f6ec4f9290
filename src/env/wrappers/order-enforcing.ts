import type { Env, ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { Wrapper } from './wrapper';

/** Thrown when `step` (or `render`) comes before the first `reset`. */
export class ResetNeededError extends Error {
  constructor(what: string) {
    super(`Cannot call env.${what}() before calling env.reset()`);
    this.name = 'ResetNeededError';
  }
}

/**
 * Gymnasium's OrderEnforcing: `step` before the first `reset` throws ResetNeededError, and so does
 * `render` unless `disableRenderOrderEnforcing` is set. Stepping after an episode ended is left to
 * the env (Gymnasium leaves it undefined too).
 */
export class OrderEnforcing<Obs, Act> extends Wrapper<Obs, Act> {
  private hasReset = false;

  constructor(
    env: Env<Obs, Act>,
    private readonly options: { disableRenderOrderEnforcing?: boolean } = {},
  ) {
    super(env);
  }

  get hasBeenReset(): boolean {
    return this.hasReset;
  }

  override async reset(opts?: ResetOptions): Promise<ResetResult<Obs>> {
    const result = await this.env.reset(opts);
    this.hasReset = true;
    return result;
  }

  override async step(action: Act): Promise<StepResult<Obs>> {
    if (!this.hasReset) throw new ResetNeededError('step');
    return this.env.step(action);
  }

  override async render(): Promise<RgbImage | null> {
    if (!this.hasReset && !this.options.disableRenderOrderEnforcing) throw new ResetNeededError('render');
    return this.env.render();
  }
}
