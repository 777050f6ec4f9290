/**
 * Proximal Policy Optimisation with the semantics of Stable-Baselines3's PPO (and CleanRL's ppo.py
 * for the loss terms, see ppo-loss.ts):
 * - rollouts of nSteps per env; truncated episodes bootstrap from V(final observation);
 * - GAE(lambda); per-minibatch advantage normalisation; nEpochs passes over shuffled minibatches;
 * - global gradient-norm clipping; Adam with eps 1e-5; learning rate and clip range schedules
 *   evaluated at progress_remaining = 1 - timesteps / total after each rollout;
 * - target-KL early stop: a minibatch whose approx-KL exceeds 1.5 * targetKl is not applied and
 *   ends the update (SB3's rule).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tidyValue } from '../../tfjs-ops/tidy-value';
import { writeSafetensors } from '../../io/safetensors';
import { AgentRuntimeOptions, AnyEnv, BaseAgent, CheckpointJson, LearnOptions } from '../base-agent';
import type { CallbackList } from '../callbacks';
import { argmaxMasked, maskLogits, logProbsAll, sampleMasked } from '../distributions';
import { EmbeddingStore } from '../../env/prompt/embedding-store';
import { PromptNet, PromptNetConfig } from '../networks/prompt-net';
import type { ObservationDims, PromptObservationBatch } from '../observation';
import { Adam, clipByGlobalNorm } from '../../nn/adam';
import { parseOptions } from '../../schema/schema';
import { scheduleValue } from '../schedules';
import { finalObservationOf } from '../../env/vector/types';
import { bootstrapTruncated, explainedVariance } from './gae';
import { normalizeAdvantages, ppoLoss } from './ppo-loss';
import { PPOOptions, ppoOptionsSchema } from './ppo-options';
import { RolloutBuffer } from './rollout-buffer';

export { PPO_DEFAULTS, PPO_PRESETS } from './ppo-options';
export type { PPOOptions } from './ppo-options';

export class PPO extends BaseAgent<PPOOptions> {
  readonly algo = 'PPO';
  protected readonly head = 'actor-critic' as const;
  private optimizer: Adam | null = null;
  private buffer: RolloutBuffer | null = null;
  private readonly store = new EmbeddingStore();
  nUpdates = 0;
  iteration = 0;
  private rolloutSeconds = 0;

  constructor(env: AnyEnv | null, options: Partial<PPOOptions> = {}, runtime: AgentRuntimeOptions = {}) {
    const opts = parseOptions('PPO', ppoOptionsSchema, { ...options, net: { ...(options.net ?? {}) } });
    super(opts, env, runtime);
  }

  protected buildModel(config: PromptNetConfig, dims: ObservationDims): void {
    this.net = new PromptNet(config, this.initRng, 'ppo');
    this.optimizer = new Adam(this.net.params, { eps: this.options.adamEps });
    void dims;
  }

  private ensureBuffer(): RolloutBuffer {
    const nEnvs = this.requireEnv().numEnvs;
    if (!this.buffer || this.buffer.nEnvs !== nEnvs) {
      this.buffer?.reset();
      this.buffer = new RolloutBuffer(this.options.nSteps, nEnvs, this.dims(), this.store);
    }
    return this.buffer;
  }

  protected act(batch: PromptObservationBatch, deterministic: boolean): Int32Array {
    const { logits } = this.readForward(batch);
    const n = this.policy.nActions;
    return deterministic
      ? argmaxMasked(logits, batch.actionMask, n)
      : sampleMasked(logits, batch.actionMask, n, this.rng);
  }

  /** Values V(s) for observations (no caching surprises: weights do not change during a rollout). */
  private valuesOf(batch: PromptObservationBatch): Float32Array {
    return this.readForward(batch).values as Float32Array;
  }

  async learn(opts: LearnOptions): Promise<this> {
    const callbacks = this.setupLearn(opts);
    await this.ensureObservations();
    await callbacks.onTrainingStart(this.context());
    while (this.numTimesteps < this.totalForRun) {
      const t0 = performance.now();
      const ok = await this.collectRollouts(callbacks);
      if (!ok) break;
      this.rolloutSeconds = (performance.now() - t0) / 1000;
      this.iteration++;
      this.train();
      await callbacks.onUpdateEnd(this.context());
    }
    await callbacks.onTrainingEnd(this.context());
    return this;
  }

  private async collectRollouts(callbacks: CallbackList): Promise<boolean> {
    const env = this.requireEnv();
    const buffer = this.ensureBuffer();
    buffer.reset();
    const n = env.numEnvs;
    const nA = this.policy.nActions;
    let dones: boolean[] = new Array(n).fill(false);
    while (!buffer.full) {
      const obs = this.lastObs!;
      const batch = this.batch(obs);
      const step = tidyValue(() => {
        const out = this.policy.forward(batch, { useCache: true });
        const logp = logProbsAll(maskLogits(out.logits, batch.actionMask));
        return {
          logits: out.logits.dataSync() as Float32Array,
          logp: logp.dataSync() as Float32Array,
          values: out.values!.dataSync() as Float32Array,
        };
      });
      const actions = sampleMasked(step.logits, batch.actionMask, nA, this.rng);
      const logProbs = Float32Array.from(actions, (a, i) => step.logp[i * nA + a]);
      buffer.add(obs, this.lastEpisodeStarts, actions, step.values, logProbs);

      const r = await env.step(actions);
      this.numTimesteps += n;
      const rewards = Float32Array.from(r.rewards as ArrayLike<number>);
      dones = Array.from({ length: n }, (_, i) => Boolean(r.terminated[i] || r.truncated[i]));
      this.trackEpisodes(rewards, dones);
      const cut: number[] = [];
      for (let i = 0; i < n; i++) if (r.truncated[i] && !r.terminated[i]) cut.push(i);
      if (cut.length > 0) {
        const finals = cut.map((i) => this.adapter(finalObservationOf(r.infos[i], `${this.algo} env ${i}`)));
        const v = this.valuesOf(this.batch(finals));
        const full = new Float32Array(n);
        cut.forEach((i, j) => (full[i] = v[j]));
        bootstrapTruncated(
          rewards,
          Array.from(r.terminated, Boolean),
          Array.from(r.truncated, Boolean),
          full,
          this.options.gamma,
        );
      }
      buffer.setRewards(rewards);
      this.lastObs = this.adaptAll(r.observations);
      this.lastEpisodeStarts = dones;
      if ((await callbacks.onStep(this.context(r.infos))) === false) return false;
    }
    const lastValues = this.valuesOf(this.batch(this.lastObs!));
    buffer.computeReturnsAndAdvantage(lastValues, dones, this.options.gamma, this.options.gaeLambda);
    await callbacks.onRolloutEnd(this.context());
    return true;
  }

  /** One PPO update over the full buffer. */
  private train(): void {
    const tStart = performance.now();
    const buffer = this.buffer!;
    const net = this.policy;
    const optimizer = this.optimizer!;
    const o = this.options;
    const pr = this.progressRemaining();
    const lr = scheduleValue(o.learningRate, pr, 'learningRate');
    const clipRange = scheduleValue(o.clipRange, pr, 'clipRange');
    const sums = { pg: 0, value: 0, entropy: 0, kl: 0, clipFrac: 0, gradNorm: 0 };
    let count = 0;
    let samples = 0;
    let lastLoss = NaN;
    let stoppedEarly = false;
    const vars = net.params.variables();
    for (let epoch = 0; epoch < o.nEpochs && !stoppedEarly; epoch++) {
      for (const mb of buffer.minibatches(o.batchSize, this.rng)) {
        const adv = o.normalizeAdvantage ? normalizeAdvantages(mb.advantages) : mb.advantages;
        const stats = tf.tidy(() => {
          let aux: tf.Scalar[] = [];
          const { value, grads } = tf.variableGrads(() => {
            const out = net.forward(mb.observations);
            const t = ppoLoss(
              {
                logits: out.logits,
                actionMask: mb.observations.actionMask,
                values: out.values!,
                actions: mb.actions,
                oldLogProbs: mb.oldLogProbs,
                oldValues: mb.oldValues,
                advantages: adv,
                returns: mb.returns,
              },
              { clipRange, clipRangeVf: o.clipRangeVf, entCoef: o.entCoef, vfCoef: o.vfCoef },
            );
            aux = [t.pgLoss, t.valueLoss, t.entropyLoss, t.approxKl, t.clipFraction].map((s) => tf.keep(s));
            return t.loss;
          }, vars);
          const [pg, vl, ent, kl, cf] = aux.map((s) => s.dataSync()[0]);
          tf.dispose(aux);
          const loss = value.dataSync()[0];
          if (o.targetKl !== null && kl > 1.5 * o.targetKl)
            return { pg, vl, ent, kl, cf, loss, applied: false, norm: NaN };
          const named = new Map<string, tf.Tensor>();
          for (const [k, g] of Object.entries(grads)) named.set(net.params.logicalName(k), g);
          const clipped = clipByGlobalNorm(named, o.maxGradNorm);
          optimizer.apply(clipped.grads, lr);
          return { pg, vl, ent, kl, cf, loss, applied: true, norm: clipped.norm.dataSync()[0] };
        });
        if (!stats.applied) {
          stoppedEarly = true;
          if (o.verbose)
            process.stderr.write(
              `PPO: early stop at epoch ${epoch}: approx_kl ${stats.kl.toFixed(4)} > 1.5 * targetKl\n`,
            );
          break;
        }
        sums.pg += stats.pg;
        sums.value += stats.vl;
        sums.entropy += stats.ent;
        sums.kl += stats.kl;
        sums.clipFrac += stats.cf;
        sums.gradNorm += stats.norm;
        lastLoss = stats.loss;
        count++;
        samples += mb.actions.length;
        this.nUpdates++;
      }
    }
    net.clearCache();
    const c = Math.max(count, 1);
    this.logIteration({
      iteration: this.iteration,
      time_rollout_s: this.rolloutSeconds,
      time_update_s: (performance.now() - tStart) / 1000,
      update_samples: samples,
      n_updates: this.nUpdates,
      learning_rate: lr,
      clip_range: clipRange,
      loss: lastLoss,
      policy_gradient_loss: sums.pg / c,
      value_loss: sums.value / c,
      entropy_loss: sums.entropy / c,
      approx_kl: sums.kl / c,
      clip_fraction: sums.clipFrac / c,
      grad_norm: sums.gradNorm / c,
      explained_variance: explainedVariance(buffer.values, buffer.returns),
      early_stopped: stoppedEarly ? 1 : 0,
    });
    buffer.reset();
  }

  protected async writeCheckpointFiles(dir: string): Promise<Record<string, unknown>> {
    const opt = this.optimizer!;
    await writeSafetensors(path.join(dir, 'optimizer.safetensors'), opt.toRecord());
    return { optimizerStep: opt.step, nUpdates: this.nUpdates, iteration: this.iteration };
  }

  /** Load a checkpoint folder written by save(). The env (optional) is where training continues. */
  static async load(dir: string, opts: { env?: AnyEnv } & AgentRuntimeOptions = {}): Promise<PPO> {
    const json = (await BaseAgent.readCheckpointJson<PPOOptions>(dir, 'PPO')) as CheckpointJson<PPOOptions>;
    const agent = new PPO(opts.env ?? null, json.options, opts);
    await agent.restoreCommon(dir, json);
    const step = json.state.optimizerStep;
    if (typeof step !== 'number') throw new Error(`${path.join(dir, 'agent.json')}: state.optimizerStep missing`);
    agent.optimizer!.loadRecord(
      await BaseAgent.readRecord(dir, 'optimizer.safetensors'),
      step,
      path.join(dir, 'optimizer.safetensors'),
    );
    agent.nUpdates = Number(json.state.nUpdates ?? 0);
    agent.iteration = Number(json.state.iteration ?? 0);
    return agent;
  }

  override dispose(): void {
    this.buffer?.reset();
    this.buffer = null;
    this.store.clear();
    this.optimizer?.dispose();
    this.optimizer = null;
    super.dispose();
  }
}
