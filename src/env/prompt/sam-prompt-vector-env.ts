/**
 * A synchronous vector of prompting envs that share one frozen SAM and one embedding cache and
 * decode every env's prompts in ONE batched SAM call per step (and one labeler call when the
 * semantic recalibration module labels the clicks). Autoreset follows `BaseVectorEnv`; in
 * same-step mode the step that ends episodes is followed by one more batched call that decodes the
 * new episodes' initial prompts.
 */
import type { DecoderOutput } from '../../sam/modeling/mask-decoder';
import type { DecodeRequest } from '../../sam/modeling/sam-model';
import { parseOptions, s } from '../../schema/schema';
import type { Space } from '../spaces/space';
import type { ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { BaseVectorEnv } from '../vector/base-vector-env';
import { type AutoresetMode, VectorEnvError } from '../vector/types';
import type { PromptObservation } from './observation';
import { checkPromptEnvState, type PromptEnvState } from './prompt-env-state';
import { promptVectorEnvSettings, resolvePromptEnvSettings } from './prompt-env-options';
import { PendingStep, SamPromptEnv, SamPromptEnvOptions } from './sam-prompt-env';

export interface SamPromptVectorEnvOptions extends SamPromptEnvOptions {
  numEnvs: number;
  autoresetMode?: AutoresetMode;
}

const numEnvsSchema = s.object({ numEnvs: promptVectorEnvSettings.numEnvs });

export class SamPromptVectorEnv extends BaseVectorEnv<PromptObservation, number> {
  readonly envs: SamPromptEnv[];
  /** Decoder calls made (one per step or reset batch), for tests and benchmarks. */
  decodeCalls = 0;

  constructor(options: SamPromptVectorEnvOptions) {
    parseOptions('SamPromptVectorEnv', numEnvsSchema, { numEnvs: options.numEnvs });
    const { seed } = resolvePromptEnvSettings(options, 'SamPromptVectorEnv');
    const envs = Array.from({ length: options.numEnvs }, (_, i) => new SamPromptEnv({ ...options, seed: seed + i }));
    super(
      options.numEnvs,
      envs[0].observationSpace as Space<PromptObservation>,
      envs[0].actionSpace,
      options.autoresetMode ?? 'same-step',
    );
    this.envs = envs;
  }

  protected async resetEnvs(
    indices: readonly number[],
    options: readonly ResetOptions[],
  ): Promise<ResetResult<PromptObservation>[]> {
    const requests = await Promise.all(indices.map((i, k) => this.envs[i].prepareReset(options[k])));
    const decoded = this.decode(requests);
    return indices.map((i, k) => this.envs[i].completeReset(decoded[k]));
  }

  protected async stepEnvs(
    indices: readonly number[],
    actions: readonly number[],
  ): Promise<StepResult<PromptObservation>[]> {
    return (await this.stepAndResetEnvs(indices, actions, [])).steps;
  }

  protected override async stepAndResetEnvs(
    stepIndices: readonly number[],
    actions: readonly number[],
    resetIndices: readonly number[],
  ): Promise<{ steps: StepResult<PromptObservation>[]; resets: ResetResult<PromptObservation>[] }> {
    // Nothing below may fail for one env after another env recorded its click: the actions are
    // checked, labelled and the resets' samples read before any env changes.
    const observations = this.checkActions(stepIndices, actions);
    const labels = await this.labels(stepIndices, actions, observations);
    const resetRequests = await Promise.all(resetIndices.map((i) => this.envs[i].prepareReset({})));
    const pending: PendingStep[] = stepIndices.map((i, k) => this.envs[i].prepareStep(actions[k], labels?.[k]));
    const decoded = this.decode([...pending.map((p) => p.request), ...resetRequests]);
    const steps = stepIndices.map((i, k) => this.envs[i].completeStep(pending[k], decoded[k]!));
    const resets = resetIndices.map((i, k) => this.envs[i].completeReset(decoded[pending.length + k]));
    return { steps, resets };
  }

  /** Every env's state (see SamPromptEnv.getState), for an exact resume. */
  async getState(): Promise<PromptEnvState[]> {
    this.assertOpen('getState');
    return this.envs.map((e) => e.getState());
  }

  /**
   * Continue from `getState()`'s states; returns the envs' current observations. Every state is
   * checked (errors name `source`, the env and the field) before any env changes.
   */
  async setState(states: readonly PromptEnvState[], source = 'vector env state'): Promise<PromptObservation[]> {
    this.assertOpen('setState');
    if (!Array.isArray(states) || states.length !== this.numEnvs)
      throw new Error(`${source}: ${Array.isArray(states) ? states.length : 'no'} env states for ${this.numEnvs} envs`);
    states.forEach((s, i) => {
      checkPromptEnvState(s, this.envs[i].stateShape, `${source}: env ${i}`);
      if (!s.episode)
        throw new Error(`${source}: env ${i}: 'episode' is missing (a vector env's envs are always inside an episode)`);
    });
    const observations: PromptObservation[] = [];
    for (let i = 0; i < this.numEnvs; i++)
      observations.push((await this.envs[i].setState(states[i], `${source}: env ${i}`))!);
    this.markRestored(states.map((s) => s.episode!.t >= this.envs[0].horizon));
    return observations;
  }

  async render(): Promise<(RgbImage | null)[]> {
    return Promise.all(this.envs.map((e) => e.render()));
  }

  protected async closeEnvs(): Promise<void> {
    await Promise.all(this.envs.map((e) => e.close()));
  }

  /**
   * Each env's current observation, once its action is known to be in range, on an unclicked cell
   * and inside the episode. An error names the env and says that no env was stepped.
   */
  private checkActions(indices: readonly number[], actions: readonly number[]): PromptObservation[] {
    return indices.map((i, k) => {
      const a = actions[k];
      try {
        const o = this.envs[i].labelRequestFor(a).observation;
        if (o.stepFraction >= 1) throw new Error('the episode has ended; call reset()');
        if (o.actionMask[a] !== 1)
          throw new Error(`action ${a}: its cell was already clicked (see observation.actionMask)`);
        return o;
      } catch (e) {
        throw new VectorEnvError(i, 'step', new Error(`${(e as Error).message}; no env was stepped`));
      }
    });
  }

  /** One labeler call for every env that needs one. */
  private async labels(
    indices: readonly number[],
    actions: readonly number[],
    observations: readonly PromptObservation[],
  ): Promise<(0 | 1)[] | null> {
    if (indices.length === 0 || this.envs[0].labelSource !== 'recalibration') return null;
    // With labels from the labeler an action is the cell itself.
    const labels = await this.envs[0].labeler!.labelClicks(
      indices.map((_, k) => ({ observation: observations[k], cell: actions[k] })),
    );
    if (!Array.isArray(labels) || labels.length !== indices.length) {
      throw new Error(
        `labeler: labelClicks returned ${Array.isArray(labels) ? labels.length : typeof labels} labels for ${indices.length} clicks; no env was stepped`,
      );
    }
    labels.forEach((l, k) => {
      if (l !== 0 && l !== 1)
        throw new VectorEnvError(
          indices[k],
          'step',
          new Error(`the labeler's label must be 0 or 1, got ${String(l)}; no env was stepped`),
        );
    });
    return labels;
  }

  /** One SAM decoder call for all requests (nulls pass through). */
  private decode(requests: readonly (DecodeRequest | null)[]): (DecoderOutput | null)[] {
    const present = requests.filter((r): r is DecodeRequest => r !== null);
    if (present.length === 0) return requests.map(() => null);
    const outs = this.envs[0].model.decode(present);
    this.decodeCalls++;
    let k = 0;
    return requests.map((r) => (r ? outs[k++] : null));
  }
}
