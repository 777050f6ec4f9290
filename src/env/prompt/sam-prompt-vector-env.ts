/**
 * A synchronous vector of prompting envs that share one frozen SAM and one embedding cache and
 * decode every env's prompts in ONE batched SAM call per step (and one labeler call when the
 * semantic recalibration module labels the clicks). Autoreset follows `BaseVectorEnv`; in
 * same-step mode the step that ends episodes is followed by one more batched call that decodes the
 * new episodes' initial prompts.
 */
import type { DecoderOutput } from '../../sam/mask-decoder';
import type { DecodeRequest } from '../../sam/sam-model';
import type { Space } from '../spaces/space';
import type { ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { BaseVectorEnv } from '../vector/base-vector-env';
import type { AutoresetMode } from '../vector/types';
import type { PromptObservation } from './observation';
import { PendingStep, SamPromptEnv, SamPromptEnvOptions } from './sam-prompt-env';

export interface SamPromptVectorEnvOptions extends SamPromptEnvOptions {
  numEnvs: number;
  autoresetMode?: AutoresetMode;
}

export class SamPromptVectorEnv extends BaseVectorEnv<PromptObservation, number> {
  readonly envs: SamPromptEnv[];
  /** Decoder calls made (one per step or reset batch), for tests and benchmarks. */
  decodeCalls = 0;

  constructor(options: SamPromptVectorEnvOptions) {
    if (!Number.isInteger(options.numEnvs) || options.numEnvs < 1) {
      throw new Error(`SamPromptVectorEnv: numEnvs must be an integer >= 1, got ${String(options.numEnvs)}`);
    }
    const envs = Array.from({ length: options.numEnvs }, (_, i) => new SamPromptEnv({ ...options, seed: (options.seed ?? 0) + i }));
    super(options.numEnvs, envs[0].observationSpace as Space<PromptObservation>, envs[0].actionSpace, options.autoresetMode ?? 'same-step');
    this.envs = envs;
  }

  protected async resetEnvs(indices: readonly number[], options: readonly ResetOptions[]): Promise<ResetResult<PromptObservation>[]> {
    const requests = await Promise.all(indices.map((i, k) => this.envs[i].prepareReset(options[k])));
    const decoded = this.decode(requests);
    return indices.map((i, k) => this.envs[i].completeReset(decoded[k]));
  }

  protected async stepEnvs(indices: readonly number[], actions: readonly number[]): Promise<StepResult<PromptObservation>[]> {
    return (await this.stepAndResetEnvs(indices, actions, [])).steps;
  }

  protected override async stepAndResetEnvs(
    stepIndices: readonly number[],
    actions: readonly number[],
    resetIndices: readonly number[],
  ): Promise<{ steps: StepResult<PromptObservation>[]; resets: ResetResult<PromptObservation>[] }> {
    const labels = await this.labels(stepIndices, actions);
    const pending: PendingStep[] = stepIndices.map((i, k) => this.envs[i].prepareStep(actions[k], labels?.[k]));
    const resetRequests = await Promise.all(resetIndices.map((i) => this.envs[i].prepareReset({})));
    const decoded = this.decode([...pending.map((p) => p.request), ...resetRequests]);
    const steps = stepIndices.map((i, k) => this.envs[i].completeStep(pending[k], decoded[k]!));
    const resets = resetIndices.map((i, k) => this.envs[i].completeReset(decoded[pending.length + k]));
    return { steps, resets };
  }

  async render(): Promise<(RgbImage | null)[]> {
    return Promise.all(this.envs.map((e) => e.render()));
  }

  protected async closeEnvs(): Promise<void> {
    await Promise.all(this.envs.map((e) => e.close()));
  }

  /** One labeler call for every env that needs one. */
  private async labels(indices: readonly number[], actions: readonly number[]): Promise<(0 | 1)[] | null> {
    if (indices.length === 0 || this.envs[0].labelSource !== 'recalibration') return null;
    const requests = indices.map((i, k) => this.envs[i].labelRequestFor(actions[k]));
    return this.envs[0].labeler!.labelClicks(requests);
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
