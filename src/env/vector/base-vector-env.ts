import type { Space } from '../spaces/space';
import { cloneValue } from '../spaces/values';
import type { ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import {
  AUTORESET_MODES,
  AutoresetMode,
  VectorEnv,
  VectorResetOptions,
  VectorResetResult,
  VectorEnvError,
  VectorStepResult,
} from './types';

/** Per-env reset options from a vector reset's seed (number -> seed + i, array -> per env). */
export function perEnvResetOptions(numEnvs: number, opts: VectorResetOptions = {}): ResetOptions[] {
  const { seed, options } = opts;
  if (Array.isArray(seed) && seed.length !== numEnvs) {
    throw new Error(`reset: got ${seed.length} seeds for ${numEnvs} envs`);
  }
  return Array.from({ length: numEnvs }, (_, i) => {
    const s = typeof seed === 'number' ? seed + i : Array.isArray(seed) ? seed[i] : undefined;
    const o: ResetOptions = {};
    if (s !== undefined) o.seed = s;
    if (options !== undefined) o.options = options;
    return o;
  });
}

function showAction(a: unknown): string {
  if (typeof a === 'number') return String(a);
  const text = JSON.stringify(a);
  return text === undefined ? String(a) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The autoreset bookkeeping shared by every vector env. A subclass supplies how to reset and step a
 * set of sub-envs (`resetEnvs`, `stepEnvs`); it may override `stepAndResetEnvs` to serve a step's
 * resets and steps in one batch (e.g. one SAM decoder call for all envs). The base class decides
 * which envs step and which reset, merges the results and applies the autoreset mode (see
 * `AutoresetMode`).
 *
 * Observations are passed through as the sub-envs return them (not copied), except
 * `final_observation` in same-step mode, which is copied with `cloneValue` (typed arrays and plain
 * objects are copied, class instances such as tensors are shared) because the reset that follows may
 * overwrite buffers an env reuses.
 */
export abstract class BaseVectorEnv<Obs, Act> implements VectorEnv<Obs, Act> {
  readonly autoresetMode: AutoresetMode;
  /** next-step mode: 1 where the env's episode ended on the previous step. */
  protected readonly needsReset: Uint8Array;
  protected closed = false;
  private hasReset = false;

  protected constructor(
    readonly numEnvs: number,
    readonly singleObservationSpace: Space<Obs>,
    readonly singleActionSpace: Space<Act>,
    autoresetMode: AutoresetMode = 'next-step',
  ) {
    if (!Number.isInteger(numEnvs) || numEnvs <= 0)
      throw new Error(`vector env: numEnvs must be a positive integer, got ${numEnvs}`);
    if (!AUTORESET_MODES.includes(autoresetMode)) {
      throw new Error(`vector env: unknown autoresetMode '${autoresetMode}' (use ${AUTORESET_MODES.join(' or ')})`);
    }
    this.autoresetMode = autoresetMode;
    this.needsReset = new Uint8Array(numEnvs);
  }

  /** Reset the envs at `indices` (results in the same order). Errors should name the env index. */
  protected abstract resetEnvs(
    indices: readonly number[],
    options: readonly ResetOptions[],
  ): Promise<ResetResult<Obs>[]>;

  /** Step the envs at `indices` with `actions` (same order). Errors should name the env index. */
  protected abstract stepEnvs(indices: readonly number[], actions: readonly Act[]): Promise<StepResult<Obs>[]>;

  /**
   * One vector step's work: step `stepIndices` and reset `resetIndices` (disjoint). The default runs
   * both concurrently; override to batch them together.
   */
  protected async stepAndResetEnvs(
    stepIndices: readonly number[],
    actions: readonly Act[],
    resetIndices: readonly number[],
  ): Promise<{ steps: StepResult<Obs>[]; resets: ResetResult<Obs>[] }> {
    const [steps, resets] = await Promise.all([
      stepIndices.length > 0 ? this.stepEnvs(stepIndices, actions) : Promise.resolve([]),
      resetIndices.length > 0
        ? this.resetEnvs(
            resetIndices,
            resetIndices.map(() => ({})),
          )
        : Promise.resolve([]),
    ]);
    return { steps, resets };
  }

  abstract render(): Promise<(RgbImage | null)[]>;

  protected abstract closeEnvs(): Promise<void>;

  async reset(opts: VectorResetOptions = {}): Promise<VectorResetResult<Obs>> {
    this.assertOpen('reset');
    const indices = Array.from({ length: this.numEnvs }, (_, i) => i);
    const results = await this.resetEnvs(indices, perEnvResetOptions(this.numEnvs, opts));
    this.needsReset.fill(0);
    this.hasReset = true;
    return { observations: results.map((r) => r.observation), infos: results.map((r) => r.info) };
  }

  /** `actions[i]` goes to env i; an array, or a typed array for number actions (e.g. Int32Array). */
  async step(actions: ArrayLike<Act>): Promise<VectorStepResult<Obs>> {
    this.assertOpen('step');
    if (!this.hasReset) throw new Error('vector env: call reset() before step()');
    if (actions === null || typeof actions !== 'object' || actions.length !== this.numEnvs) {
      const got = actions !== null && typeof actions === 'object' ? `${actions.length}` : typeof actions;
      throw new Error(`vector env: step needs ${this.numEnvs} actions, got ${got}`);
    }
    const n = this.numEnvs;
    const out: VectorStepResult<Obs> = {
      observations: new Array<Obs>(n),
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      infos: new Array(n),
    };
    const resetIdx: number[] = [];
    const stepIdx: number[] = [];
    for (let i = 0; i < n; i++) (this.autoresetMode === 'next-step' && this.needsReset[i] ? resetIdx : stepIdx).push(i);
    // Checked for every env before any steps, so that one bad action leaves all envs as they were.
    for (const i of stepIdx) {
      if (!this.singleActionSpace.contains(actions[i])) {
        throw new VectorEnvError(
          i,
          'step',
          new Error(
            `action ${showAction(actions[i])} is not in the action space ${this.singleActionSpace}; no env was stepped`,
          ),
        );
      }
    }

    const { steps, resets } = await this.stepAndResetEnvs(
      stepIdx,
      stepIdx.map((i) => actions[i]),
      resetIdx,
    );
    resetIdx.forEach((i, k) => {
      out.observations[i] = resets[k].observation;
      out.infos[i] = resets[k].info;
      this.needsReset[i] = 0;
    });
    const ended: number[] = [];
    stepIdx.forEach((i, k) => {
      const r = steps[k];
      out.observations[i] = r.observation;
      out.rewards[i] = r.reward;
      out.terminated[i] = r.terminated ? 1 : 0;
      out.truncated[i] = r.truncated ? 1 : 0;
      out.infos[i] = r.info;
      if (r.terminated || r.truncated) ended.push(i);
    });

    if (this.autoresetMode === 'next-step') {
      for (const i of ended) this.needsReset[i] = 1;
    } else if (ended.length > 0) {
      const finals = ended.map((i) => ({ observation: cloneValue(out.observations[i]), info: out.infos[i] }));
      const fresh = await this.resetEnvs(
        ended,
        ended.map(() => ({})),
      );
      ended.forEach((i, k) => {
        out.observations[i] = fresh[k].observation;
        out.infos[i] = { ...fresh[k].info, final_observation: finals[k].observation, final_info: finals[k].info };
      });
    }
    return out;
  }

  /**
   * For a subclass that restored its envs from saved state: steps may follow without a reset;
   * in next-step mode the envs marked in `ended` reset at the next step.
   */
  protected markRestored(ended: readonly boolean[]): void {
    ended.forEach((e, i) => (this.needsReset[i] = this.autoresetMode === 'next-step' && e ? 1 : 0));
    this.hasReset = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeEnvs();
  }

  protected assertOpen(what: string): void {
    if (this.closed) throw new Error(`vector env: ${what}() after close()`);
  }
}
