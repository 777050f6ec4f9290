import type { Space } from '../spaces/space';
import type { Env, ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { BaseVectorEnv } from './base-vector-env';
import { AutoresetMode, VectorEnvError } from './types';

export interface SyncVectorEnvOptions {
  autoresetMode?: AutoresetMode;
}

/**
 * Runs `envFns.length` envs one after another in this thread (Gymnasium's SyncVectorEnv). All
 * envs must have equal observation and action spaces (compared by their JSON). A sub-env's error
 * is rethrown as a VectorEnvError naming its index; the vector env should be reset after one.
 */
export class SyncVectorEnv<Obs, Act> extends BaseVectorEnv<Obs, Act> {
  readonly envs: readonly Env<Obs, Act>[];

  constructor(envFns: readonly (() => Env<Obs, Act>)[], options: SyncVectorEnvOptions = {}) {
    if (!Array.isArray(envFns) || envFns.length === 0) throw new Error('SyncVectorEnv: needs at least one env factory');
    const envs = envFns.map((fn, i) => {
      try {
        return fn();
      } catch (e) {
        throw new VectorEnvError(i, 'construction', e);
      }
    });
    const first = envs[0];
    super(envs.length, first.observationSpace, first.actionSpace, options.autoresetMode);
    envs.forEach((env, i) => assertSameSpaces(first, env, i, 'SyncVectorEnv'));
    this.envs = envs;
  }

  protected async resetEnvs(indices: readonly number[], options: readonly ResetOptions[]): Promise<ResetResult<Obs>[]> {
    const out: ResetResult<Obs>[] = [];
    for (let k = 0; k < indices.length; k++) {
      try {
        out.push(await this.envs[indices[k]].reset(options[k]));
      } catch (e) {
        throw new VectorEnvError(indices[k], 'reset', e);
      }
    }
    return out;
  }

  protected async stepEnvs(indices: readonly number[], actions: readonly Act[]): Promise<StepResult<Obs>[]> {
    const out: StepResult<Obs>[] = [];
    for (let k = 0; k < indices.length; k++) {
      try {
        out.push(await this.envs[indices[k]].step(actions[k]));
      } catch (e) {
        throw new VectorEnvError(indices[k], 'step', e);
      }
    }
    return out;
  }

  async render(): Promise<(RgbImage | null)[]> {
    this.assertOpen('render');
    const out: (RgbImage | null)[] = [];
    for (const env of this.envs) out.push(await env.render());
    return out;
  }

  protected async closeEnvs(): Promise<void> {
    const errors: unknown[] = [];
    for (let i = 0; i < this.envs.length; i++) {
      try {
        await this.envs[i].close();
      } catch (e) {
        errors.push(new VectorEnvError(i, 'close', e));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

export function assertSameSpaces(
  first: { observationSpace: Space<unknown>; actionSpace: Space<unknown> },
  other: { observationSpace: Space<unknown>; actionSpace: Space<unknown> },
  index: number,
  who: string,
): void {
  if (!other.observationSpace.equals(first.observationSpace)) {
    throw new Error(
      `${who}: env ${index} has observation space ${other.observationSpace}, env 0 has ${first.observationSpace}`,
    );
  }
  if (!other.actionSpace.equals(first.actionSpace)) {
    throw new Error(`${who}: env ${index} has action space ${other.actionSpace}, env 0 has ${first.actionSpace}`);
  }
}
