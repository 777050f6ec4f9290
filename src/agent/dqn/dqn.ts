/**
 * Deep Q-learning with the semantics of Stable-Baselines3's DQN, plus Double DQN (on by default),
 * invalid-action masking and optional n-step returns:
 * - before `learningStarts` timesteps, actions are uniform over the allowed ones; after, epsilon-
 *   greedy with epsilon decaying linearly from explorationInitialEps to explorationFinalEps over
 *   the first explorationFraction of the run (each env draws its own coin);
 * - every `trainFreq` vector steps (once past learningStarts), `gradientSteps` updates on uniform
 *   minibatches from the replay buffer (-1: as many as env steps collected); Huber loss; gradient
 *   norm clipping; Adam;
 * - the target network follows with Polyak averaging (tau; 1 = hard copy) every
 *   targetUpdateInterval env timesteps (counted per vector step as SB3: every
 *   max(interval / nEnvs, 1) calls);
 * - truncated episodes are not terminal: their transition bootstraps from the final observation.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeSafetensors } from '../../io/safetensors';
import { AgentRuntimeOptions, AnyEnv, BaseAgent, CheckpointJson, LearnOptions } from '../base-agent';
import type { CallbackList } from '../callbacks';
import { argmaxMasked } from '../distributions';
import { PromptNet, PromptNetConfig } from '../networks/prompt-net';
import type { ObservationDims, PromptObservationBatch } from '../observation';
import { Adam, clipByGlobalNorm } from '../../nn/adam';
import { parseOptions } from '../../schema/schema';
import { explorationValue, scheduleValue } from '../schedules';
import { tidyValue } from '../../tfjs-ops/tidy-value';
import { finalObservationOf } from '../../env/vector/types';
import { DQNOptions, dqnOptionsSchema } from './dqn-options';
import { dqnTargets, gatherActions, huberLoss } from './dqn-targets';
import { NStepAccumulator } from './n-step';
import { ReplayBuffer, ReplayState } from './replay-buffer';

export { DQN_DEFAULTS } from './dqn-options';
export type { DQNOptions } from './dqn-options';

export class DQN extends BaseAgent<DQNOptions> {
  readonly algo = 'DQN';
  protected readonly head = 'q' as const;
  private target: PromptNet | null = null;
  private optimizer: Adam | null = null;
  private replay: ReplayBuffer | null = null;
  private nStep: NStepAccumulator | null = null;
  explorationRate: number;
  nUpdates = 0;
  /** Vector steps taken (SB3's _n_calls), for the target update period. */
  nCalls = 0;
  private pendingLog = { loss: 0, q: 0, count: 0, seconds: 0 };
  private lastLr = NaN;

  constructor(env: AnyEnv | null, options: Partial<DQNOptions> = {}, runtime: AgentRuntimeOptions = {}) {
    const opts = parseOptions('DQN', dqnOptionsSchema, { ...options, net: { ...(options.net ?? {}) } });
    super(opts, env, runtime);
    this.explorationRate = opts.explorationInitialEps;
  }

  protected buildModel(config: PromptNetConfig, dims: ObservationDims): void {
    this.net = new PromptNet(config, this.initRng, 'dqn');
    this.target = new PromptNet(config, this.initRng, 'dqn-target');
    this.target.params.copyFrom(this.net.params);
    this.optimizer = new Adam(this.net.params, { eps: this.options.adamEps });
    this.replay = new ReplayBuffer(this.options.bufferSize, dims);
  }

  /** The target network (built with the Q-network). */
  get targetNet(): PromptNet {
    if (!this.target) throw new Error('DQN: not built yet');
    return this.target;
  }

  get replayBuffer(): ReplayBuffer {
    if (!this.replay) throw new Error('DQN: not built yet');
    return this.replay;
  }

  private randomAllowed(mask: Uint8Array, row: number, n: number): number {
    let count = 0;
    for (let i = 0; i < n; i++) if (mask[row * n + i]) count++;
    if (count === 0) throw new Error(`action mask of batch row ${row} allows no action`);
    let k = this.rng.int(count);
    for (let i = 0; i < n; i++) if (mask[row * n + i] && k-- === 0) return i;
    throw new Error('unreachable');
  }

  protected act(batch: PromptObservationBatch, deterministic: boolean): Int32Array {
    const n = this.policy.nActions;
    const { logits: q } = this.readForward(batch);
    const greedy = argmaxMasked(q, batch.actionMask, n);
    if (deterministic) return greedy;
    return Int32Array.from(greedy, (a, row) =>
      this.rng.random() < this.explorationRate ? this.randomAllowed(batch.actionMask, row, n) : a,
    );
  }

  async learn(opts: LearnOptions): Promise<this> {
    const callbacks = this.setupLearn(opts);
    const didReset = await this.ensureObservations();
    const n = this.requireEnv().numEnvs;
    // Transitions waiting for their n-th step belong to episodes a reset has cut off.
    if (!this.nStep || didReset || this.nStep.nEnvs !== n)
      this.nStep = new NStepAccumulator(n, this.options.nSteps, this.options.gamma);
    await callbacks.onTrainingStart(this.context());
    while (this.numTimesteps < this.totalForRun) {
      const collected = await this.collect(callbacks);
      if (collected < 0) break;
      if (this.numTimesteps > 0 && this.numTimesteps > this.options.learningStarts) {
        const steps = this.options.gradientSteps >= 0 ? this.options.gradientSteps : collected;
        if (steps > 0) {
          const t0 = performance.now();
          this.train(steps);
          this.pendingLog.seconds += (performance.now() - t0) / 1000;
        }
      }
      await callbacks.onUpdateEnd(this.context());
    }
    this.flushLog();
    await callbacks.onTrainingEnd(this.context());
    return this;
  }

  /** trainFreq vector steps; returns env steps collected, or -1 when a callback stopped training. */
  private async collect(callbacks: CallbackList): Promise<number> {
    const env = this.requireEnv();
    const replay = this.replayBuffer;
    const nStep = this.nStep!;
    const n = env.numEnvs;
    let collected = 0;
    for (let s = 0; s < this.options.trainFreq && this.numTimesteps < this.totalForRun; s++) {
      const obs = this.lastObs!;
      const batch = this.batch(obs);
      let actions: Int32Array;
      if (this.numTimesteps < this.options.learningStarts) {
        actions = Int32Array.from({ length: n }, (_, row) =>
          this.randomAllowed(batch.actionMask, row, this.policy.nActions),
        );
      } else {
        actions = this.act(batch, false);
      }
      const r = await env.step(actions);
      this.numTimesteps += n;
      collected += n;
      const next = this.adaptAll(r.observations);
      const dones = Array.from({ length: n }, (_, i) => Boolean(r.terminated[i] || r.truncated[i]));
      this.trackEpisodes(r.rewards, dones);
      for (let i = 0; i < n; i++) {
        const nextObs = dones[i] ? this.adapter(finalObservationOf(r.infos[i], `${this.algo} env ${i}`)) : next[i];
        for (const t of nStep.push(
          i,
          obs[i],
          actions[i],
          r.rewards[i],
          nextObs,
          Boolean(r.terminated[i]),
          Boolean(r.truncated[i]),
        )) {
          replay.add(t.obs, t.action, t.reward, t.nextObs, t.terminated, t.discount);
        }
      }
      this.lastObs = next;
      this.lastEpisodeStarts = dones;
      this.nCalls++;
      if (this.nCalls % Math.max(Math.floor(this.options.targetUpdateInterval / n), 1) === 0) {
        this.targetNet.params.polyakFrom(this.policy.params, this.options.tau);
      }
      const o = this.options;
      this.explorationRate = explorationValue(
        o.explorationInitialEps,
        o.explorationFinalEps,
        o.explorationFraction,
        this.progressRemaining(),
      );
      if ((await callbacks.onStep(this.context(r.infos))) === false) return -1;
    }
    return collected;
  }

  private train(gradientSteps: number): void {
    const o = this.options;
    const net = this.policy;
    const target = this.targetNet;
    const replay = this.replayBuffer;
    const optimizer = this.optimizer!;
    const lr = scheduleValue(o.learningRate, this.progressRemaining(), 'learningRate');
    const nA = net.nActions;
    const vars = net.params.variables();
    for (let g = 0; g < gradientSteps; g++) {
      const s = replay.sample(o.batchSize, this.rng);
      const targets = tidyValue(() => {
        const nextQTarget = target.forward(s.nextObservations, { useCache: true }).logits.dataSync() as Float32Array;
        const nextQOnline = o.doubleQ ? (net.forward(s.nextObservations).logits.dataSync() as Float32Array) : null;
        return dqnTargets({
          rewards: s.rewards,
          dones: s.dones,
          discounts: s.discounts,
          nextQTarget,
          nextQOnline,
          nextMask: s.nextObservations.actionMask,
          nActions: nA,
        });
      });
      const stats = tidyValue(() => {
        let qMean: tf.Scalar | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const q = gatherActions(net.forward(s.observations).logits, s.actions);
          qMean = tf.keep(tf.mean(q) as tf.Scalar);
          return huberLoss(q, tf.tensor1d(targets));
        }, vars);
        const named = new Map<string, tf.Tensor>();
        for (const [k, gr] of Object.entries(grads)) named.set(net.params.logicalName(k), gr);
        optimizer.apply(clipByGlobalNorm(named, o.maxGradNorm).grads, lr);
        const out = { loss: value.dataSync()[0], q: (qMean as tf.Scalar | null)?.dataSync()[0] ?? NaN };
        if (qMean) (qMean as tf.Scalar).dispose();
        return out;
      });
      this.pendingLog.loss += stats.loss;
      this.pendingLog.q += stats.q;
      this.pendingLog.count++;
      this.nUpdates++;
    }
    net.clearCache();
    this.lastLr = lr;
    if (this.pendingLog.count >= this.options.logInterval) this.flushLog();
  }

  private flushLog(): void {
    const p = this.pendingLog;
    if (p.count === 0) return;
    this.logIteration({
      n_updates: this.nUpdates,
      learning_rate: this.lastLr,
      loss: p.loss / p.count,
      gradient_steps: p.count,
      time_train_s: p.seconds,
      q_mean: p.q / p.count,
      exploration_rate: this.explorationRate,
      buffer_size: this.replayBuffer.size,
    });
    this.pendingLog = { loss: 0, q: 0, count: 0, seconds: 0 };
  }

  protected async writeCheckpointFiles(dir: string): Promise<Record<string, unknown>> {
    const opt = this.optimizer!;
    await writeSafetensors(path.join(dir, 'optimizer.safetensors'), opt.toRecord());
    await writeSafetensors(path.join(dir, 'target.safetensors'), this.targetNet.params.toRecord());
    let replayState: ReplayState | null = null;
    if (this.options.saveReplayBuffer) {
      const { record, state } = this.replayBuffer.toRecord();
      await writeSafetensors(path.join(dir, 'replay.safetensors'), record);
      replayState = state;
    }
    return {
      optimizerStep: opt.step,
      nUpdates: this.nUpdates,
      nCalls: this.nCalls,
      explorationRate: this.explorationRate,
      replay: replayState,
      pendingNStep: this.nStep?.pendingCount ?? 0,
      // The gradient steps not yet averaged into a logs record, so a resumed run logs as a straight one.
      pendingLog: this.pendingLog,
      lastLr: this.lastLr,
    };
  }

  /**
   * Load a checkpoint folder written by save(). Transitions still waiting for their n-th step at
   * save time (n-step returns only) are not saved.
   */
  static async load(dir: string, opts: { env?: AnyEnv } & AgentRuntimeOptions = {}): Promise<DQN> {
    const json = (await BaseAgent.readCheckpointJson<DQNOptions>(dir, 'DQN')) as CheckpointJson<DQNOptions>;
    const agent = new DQN(opts.env ?? null, json.options, opts);
    await agent.restoreCommon(dir, json);
    const st = json.state;
    if (typeof st.optimizerStep !== 'number')
      throw new Error(`${path.join(dir, 'agent.json')}: state.optimizerStep missing`);
    agent.optimizer!.loadRecord(
      await BaseAgent.readRecord(dir, 'optimizer.safetensors'),
      st.optimizerStep,
      path.join(dir, 'optimizer.safetensors'),
    );
    agent.targetNet.params.loadRecord(
      await BaseAgent.readRecord(dir, 'target.safetensors'),
      path.join(dir, 'target.safetensors'),
    );
    if (st.replay) {
      const file = path.join(dir, 'replay.safetensors');
      agent.replayBuffer.loadRecord(
        await BaseAgent.readRecord(dir, 'replay.safetensors'),
        st.replay as ReplayState,
        file,
      );
    }
    agent.nUpdates = Number(st.nUpdates ?? 0);
    agent.nCalls = Number(st.nCalls ?? 0);
    agent.explorationRate = Number(st.explorationRate ?? agent.options.explorationInitialEps);
    if (st.pendingLog !== undefined) {
      const p = st.pendingLog as DQN['pendingLog'];
      if (!p || !(['loss', 'q', 'count', 'seconds'] as const).every((k) => Number.isFinite(p[k])))
        throw new Error(
          `${path.join(dir, 'agent.json')}: 'state.pendingLog' must hold finite loss, q, count and seconds`,
        );
      agent.pendingLog = { loss: p.loss, q: p.q, count: p.count, seconds: p.seconds };
    }
    if (typeof st.lastLr === 'number') agent.lastLr = st.lastLr;
    return agent;
  }

  override dispose(): void {
    this.replay?.dispose();
    this.replay = null;
    this.target?.dispose();
    this.target = null;
    this.optimizer?.dispose();
    this.optimizer = null;
    super.dispose();
  }
}
