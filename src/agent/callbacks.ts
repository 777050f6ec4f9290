/**
 * Training callbacks after Stable-Baselines3's: hooks at training start/end, after every vector env
 * step, after every rollout and after every update. `onStep` returning false stops training.
 * Frequencies here count env timesteps (summed over envs), not calls.
 */
import * as path from 'node:path';
import type { Info } from '../env/types';
import type { VectorEnv } from '../env/vector/types';
import { formatDuration } from '../utils/progress-line';
import { evaluatePolicy, EvaluationResult, PolicyLike } from './evaluate';

/** What callbacks may use of an agent. */
export interface LearningAgent extends PolicyLike {
  readonly numTimesteps: number;
  save(dir: string): Promise<void>;
  /** Returns of the most recent finished training episodes (up to 100), oldest first. */
  recentEpisodeReturns(): number[];
}

export interface CallbackContext {
  agent: LearningAgent;
  numTimesteps: number;
  /** The timestep count at which this learn() call stops. */
  totalTimesteps: number;
  /** Infos of the last vector step (empty at training start). */
  infos: Info[];
  /** Set by EvalCallback for its child callback. */
  evalMeanReward?: number;
  bestMeanReward?: number;
}

export interface Callback {
  onTrainingStart?(ctx: CallbackContext): void | Promise<void>;
  onStep?(ctx: CallbackContext): boolean | void | Promise<boolean | void>;
  onRolloutEnd?(ctx: CallbackContext): void | Promise<void>;
  /**
   * After the agent learned from the data collected so far (PPO: the update of a rollout; DQN: a
   * phase of trainFreq steps and its gradient steps). Only here does a saved checkpoint hold
   * everything a straight run would carry on with: a save during a rollout misses its update.
   */
  onUpdateEnd?(ctx: CallbackContext): void | Promise<void>;
  onTrainingEnd?(ctx: CallbackContext): void | Promise<void>;
}

/** Runs a list of callbacks in order; stops when any asks to. */
export class CallbackList implements Callback {
  constructor(readonly callbacks: Callback[]) {}

  async onTrainingStart(ctx: CallbackContext): Promise<void> {
    for (const c of this.callbacks) await c.onTrainingStart?.(ctx);
  }

  async onStep(ctx: CallbackContext): Promise<boolean> {
    let go = true;
    for (const c of this.callbacks) if ((await c.onStep?.(ctx)) === false) go = false;
    return go;
  }

  async onRolloutEnd(ctx: CallbackContext): Promise<void> {
    for (const c of this.callbacks) await c.onRolloutEnd?.(ctx);
  }

  async onUpdateEnd(ctx: CallbackContext): Promise<void> {
    for (const c of this.callbacks) await c.onUpdateEnd?.(ctx);
  }

  async onTrainingEnd(ctx: CallbackContext): Promise<void> {
    for (const c of this.callbacks) await c.onTrainingEnd?.(ctx);
  }
}

function checkEvery(n: number, who: string): void {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${who}: 'everySteps' must be a positive integer, got ${n}`);
}

export interface CheckpointCallbackOptions {
  everySteps: number;
  dir: string;
  namePrefix?: string;
  /** Writes one checkpoint folder (default: `agent.save(dir)`), e.g. to save more than the agent. */
  save?: (dir: string, ctx: CallbackContext) => Promise<void>;
}

/**
 * Saves the agent to `<dir>/<namePrefix>_<timesteps>_steps` once `everySteps` more timesteps have
 * passed, at the end of the update that follows (onUpdateEnd), so that loading the checkpoint and
 * training on equals training straight through. Training that stops in between (a callback asked
 * to) saves what there is at its end.
 */
export class CheckpointCallback implements Callback {
  private next = 0;
  private due = false;
  readonly saved: string[] = [];

  constructor(readonly opts: CheckpointCallbackOptions) {
    checkEvery(opts.everySteps, 'CheckpointCallback');
  }

  onTrainingStart(ctx: CallbackContext): void {
    this.next = (Math.floor(ctx.numTimesteps / this.opts.everySteps) + 1) * this.opts.everySteps;
    this.due = false;
  }

  onStep(ctx: CallbackContext): boolean {
    if (ctx.numTimesteps >= this.next) this.due = true;
    return true;
  }

  async onUpdateEnd(ctx: CallbackContext): Promise<void> {
    if (this.due) await this.saveNow(ctx);
  }

  async onTrainingEnd(ctx: CallbackContext): Promise<void> {
    if (this.due) await this.saveNow(ctx);
  }

  private async saveNow(ctx: CallbackContext): Promise<void> {
    const dir = path.join(this.opts.dir, `${this.opts.namePrefix ?? 'model'}_${ctx.numTimesteps}_steps`);
    if (this.opts.save) await this.opts.save(dir, ctx);
    else await ctx.agent.save(dir);
    this.saved.push(dir);
    this.due = false;
    this.next = (Math.floor(ctx.numTimesteps / this.opts.everySteps) + 1) * this.opts.everySteps;
  }
}

export interface EvalCallbackOptions {
  evalEnv: VectorEnv<unknown, number>;
  everySteps: number;
  nEpisodes?: number;
  deterministic?: boolean;
  /** Where to save the best agent so far (`<dir>/best_model`). */
  bestModelDir?: string;
  /** Called when a new best mean reward is reached (e.g. StopTrainingOnRewardThreshold). */
  onNewBest?: Callback;
  /** Print each evaluation to stderr. */
  verbose?: boolean;
}

/** Evaluates the agent every `everySteps` timesteps, keeping the best model. */
export class EvalCallback implements Callback {
  private next = 0;
  bestMeanReward = -Infinity;
  lastMeanReward = NaN;
  readonly evaluations: Array<{ timesteps: number; result: EvaluationResult }> = [];

  constructor(readonly opts: EvalCallbackOptions) {
    checkEvery(opts.everySteps, 'EvalCallback');
  }

  onTrainingStart(ctx: CallbackContext): void {
    this.next = (Math.floor(ctx.numTimesteps / this.opts.everySteps) + 1) * this.opts.everySteps;
  }

  async onStep(ctx: CallbackContext): Promise<boolean> {
    if (ctx.numTimesteps < this.next) return true;
    this.next = (Math.floor(ctx.numTimesteps / this.opts.everySteps) + 1) * this.opts.everySteps;
    const result = await evaluatePolicy(ctx.agent, this.opts.evalEnv, this.opts.nEpisodes ?? 5, {
      deterministic: this.opts.deterministic ?? true,
    });
    this.evaluations.push({ timesteps: ctx.numTimesteps, result });
    this.lastMeanReward = result.meanReward;
    if (this.opts.verbose) {
      process.stderr.write(
        `eval at ${ctx.numTimesteps} steps: mean reward ${result.meanReward.toFixed(3)} +/- ${result.stdReward.toFixed(3)}\n`,
      );
    }
    if (result.meanReward > this.bestMeanReward) {
      this.bestMeanReward = result.meanReward;
      if (this.opts.bestModelDir) await ctx.agent.save(path.join(this.opts.bestModelDir, 'best_model'));
      if (this.opts.onNewBest) {
        const go = await this.opts.onNewBest.onStep?.({
          ...ctx,
          evalMeanReward: result.meanReward,
          bestMeanReward: this.bestMeanReward,
        });
        if (go === false) return false;
      }
    }
    return true;
  }
}

/**
 * Stops training once a reward threshold is reached: as EvalCallback's `onNewBest`, on the best
 * evaluation mean; used directly, on the mean of the last `window` training episodes.
 */
export class StopTrainingOnRewardThreshold implements Callback {
  constructor(readonly opts: { threshold: number; window?: number }) {
    if (!Number.isFinite(opts.threshold))
      throw new Error(`StopTrainingOnRewardThreshold: threshold must be finite, got ${opts.threshold}`);
  }

  onStep(ctx: CallbackContext): boolean {
    if (ctx.bestMeanReward !== undefined) return !(ctx.bestMeanReward >= this.opts.threshold);
    const window = this.opts.window ?? 100;
    const r = ctx.agent.recentEpisodeReturns().slice(-window);
    if (r.length < window) return true;
    return !(r.reduce((a, b) => a + b, 0) / r.length >= this.opts.threshold);
  }
}

/** A one-line text progress bar with rate and ETA, redrawn on stderr at most every `minIntervalMs`. */
export class ProgressBarCallback implements Callback {
  private start = 0;
  private startSteps = 0;
  private last = 0;

  constructor(
    readonly opts: { width?: number; minIntervalMs?: number; stream?: NodeJS.WritableStream; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** The bar text for a state (exposed for tests). */
  render(done: number, total: number, elapsedS: number): string {
    const width = this.opts.width ?? 30;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(frac * width);
    const rate = elapsedS > 0 ? done / elapsedS : NaN;
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const pct = (frac * 100).toFixed(0).padStart(3);
    const rateText = Number.isFinite(rate) ? `${rate.toFixed(rate < 10 ? 1 : 0)} steps/s` : '- steps/s';
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${done}/${total} ${rateText} ETA ${formatDuration(eta)} elapsed ${formatDuration(elapsedS)}`;
  }

  onTrainingStart(ctx: CallbackContext): void {
    this.start = this.now();
    this.startSteps = ctx.numTimesteps;
    this.last = 0;
  }

  private draw(ctx: CallbackContext, force: boolean): void {
    const t = this.now();
    if (!force && t - this.last < (this.opts.minIntervalMs ?? 500)) return;
    this.last = t;
    const done = ctx.numTimesteps - this.startSteps;
    const total = ctx.totalTimesteps - this.startSteps;
    (this.opts.stream ?? process.stderr).write(`\r${this.render(done, total, (t - this.start) / 1000)}`);
  }

  onStep(ctx: CallbackContext): boolean {
    this.draw(ctx, false);
    return true;
  }

  onTrainingEnd(ctx: CallbackContext): void {
    this.draw(ctx, true);
    (this.opts.stream ?? process.stderr).write('\n');
  }
}
