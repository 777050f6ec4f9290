import type { Space } from '../spaces/space';
import type { Env, ResetOptions, ResetResult, RgbImage, StepResult } from '../types';

/**
 * The base wrapper: forwards everything to the wrapped env. Subclasses override what they change.
 * A wrapper that changes the observation or action space sets `observationSpaceOverride` /
 * `actionSpaceOverride`. As in Gymnasium 1.x, arbitrary attributes are NOT forwarded; reach the
 * innermost env with `unwrapped`, or a wrapper's own field with `getWrapperAttr`.
 */
export class Wrapper<Obs = unknown, Act = unknown, WObs = Obs, WAct = Act> implements Env<WObs, WAct> {
  protected observationSpaceOverride?: Space<WObs>;
  protected actionSpaceOverride?: Space<WAct>;

  constructor(readonly env: Env<Obs, Act>) {
    if (env === null || typeof env !== 'object' || typeof env.step !== 'function' || typeof env.reset !== 'function') {
      throw new Error(`${new.target.name}: expected an Env to wrap`);
    }
  }

  get observationSpace(): Space<WObs> {
    return this.observationSpaceOverride ?? (this.env.observationSpace as unknown as Space<WObs>);
  }

  get actionSpace(): Space<WAct> {
    return this.actionSpaceOverride ?? (this.env.actionSpace as unknown as Space<WAct>);
  }

  /** The innermost env. */
  get unwrapped(): Env<unknown, unknown> {
    return this.env instanceof Wrapper ? this.env.unwrapped : (this.env as Env<unknown, unknown>);
  }

  /** The outermost wrapper (or the env itself) down the chain that has `name` as an own or class member. */
  getWrapperAttr(name: string): unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk down the chain starts here
    let cur: unknown = this;
    while (cur !== null && typeof cur === 'object') {
      if (name in cur) return (cur as Record<string, unknown>)[name];
      cur = cur instanceof Wrapper ? cur.env : null;
    }
    throw new Error(`getWrapperAttr: no wrapper or env in the chain has an attribute '${name}'`);
  }

  reset(opts?: ResetOptions): Promise<ResetResult<WObs>> {
    return this.env.reset(opts) as unknown as Promise<ResetResult<WObs>>;
  }

  step(action: WAct): Promise<StepResult<WObs>> {
    return this.env.step(action as unknown as Act) as unknown as Promise<StepResult<WObs>>;
  }

  render(): Promise<RgbImage | null> {
    return this.env.render();
  }

  close(): Promise<void> {
    return this.env.close();
  }

  toString(): string {
    const inner = this.env instanceof Wrapper ? this.env.toString() : this.env.constructor.name;
    return `${this.constructor.name}<${inner}>`;
  }
}
