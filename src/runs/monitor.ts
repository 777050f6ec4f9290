/**
 * Training callbacks of a run: episode statistics from the env's infos, the agent's per-iteration
 * logs written to metrics.jsonl and TensorBoard, a progress line on stderr (steps, rate, ETA,
 * recent return and IoU), periodic evaluation with the best model kept, and a graceful stop.
 */
import type { Callback, CallbackContext } from '../agent/callbacks';
import { ProgressBarCallback } from '../agent/callbacks';
import type { Info } from '../env/types';
import type { RunLogger } from './run-logger';

/** Rolling statistics of finished episodes and of click labels, read from vector-env infos. */
export class EpisodeStats {
  private readonly ious: number[] = [];
  private readonly labelsRight: number[] = [];
  episodes = 0;

  constructor(
    readonly window = 20,
    readonly clickWindow = 1000,
  ) {}

  /**
   * Same-step autoreset: an env whose episode ended holds the last step's info in `final_info`.
   * A click's label counts as right when it matches the ground truth at the clicked point, the
   * cell's centre (`info.cell_centres`), as evaluation judges it; an env whose infos do not carry
   * that truth adds nothing to the label accuracy.
   */
  observe(infos: readonly Info[]): void {
    for (const info of infos) {
      const step = (info.final_info as Info | undefined) ?? info;
      const cell = step.cell;
      const label = step.label;
      const truth = step.cell_centres as ArrayLike<number> | undefined;
      if (typeof cell === 'number' && (label === 0 || label === 1) && truth) {
        this.labelsRight.push((truth[cell] >= 0.5 ? 1 : 0) === label ? 1 : 0);
        if (this.labelsRight.length > this.clickWindow) this.labelsRight.shift();
      }
      if (info.final_info) {
        this.episodes++;
        const iou = (info.final_info as Info).iou;
        if (typeof iou === 'number') {
          this.ious.push(iou);
          if (this.ious.length > this.window) this.ious.shift();
        }
      }
    }
  }

  meanIou(): number {
    return this.ious.length ? this.ious.reduce((a, b) => a + b, 0) / this.ious.length : NaN;
  }

  labelAccuracy(): number {
    return this.labelsRight.length ? this.labelsRight.reduce((a, b) => a + b, 0) / this.labelsRight.length : NaN;
  }

  /** The windows and the count, for a checkpoint (a resumed run logs what a straight one would). */
  getState(): EpisodeStatsState {
    return { ious: [...this.ious], labelsRight: [...this.labelsRight], episodes: this.episodes };
  }

  setState(state: EpisodeStatsState, where: string): void {
    if (!state || !Array.isArray(state.ious) || !state.ious.every(Number.isFinite) || state.ious.length > this.window) {
      throw new Error(`${where}: 'ious' must be at most ${this.window} finite numbers`);
    }
    if (
      !Array.isArray(state.labelsRight) ||
      !state.labelsRight.every((v) => v === 0 || v === 1) ||
      state.labelsRight.length > this.clickWindow
    ) {
      throw new Error(`${where}: 'labelsRight' must be at most ${this.clickWindow} values of 0 or 1`);
    }
    if (!(Number.isInteger(state.episodes) && state.episodes >= 0))
      throw new Error(`${where}: 'episodes' must be an integer >= 0, got ${JSON.stringify(state.episodes)}`);
    this.ious.splice(0, this.ious.length, ...state.ious);
    this.labelsRight.splice(0, this.labelsRight.length, ...state.labelsRight);
    this.episodes = state.episodes;
  }
}

export interface EpisodeStatsState {
  ious: number[];
  labelsRight: number[];
  episodes: number;
}

/** What the monitor reads from an agent (PPO and DQN both have it). */
export interface MonitoredAgent {
  readonly numTimesteps: number;
  readonly logs: ReadonlyArray<Record<string, number>>;
  recentEpisodeReturns(): number[];
}

/** Agent log keys as TensorBoard tags (SB3's grouping). */
export function agentLogTags(record: Record<string, number>, algo: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === 'timesteps') continue;
    if (k === 'ep_rew_mean' || k === 'ep_len_mean') out[`rollout/${k}`] = v;
    else if (k === 'fps') out['time/fps'] = v;
    else out[`${algo}/${k}`] = v;
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export interface MonitorOptions {
  agent: MonitoredAgent;
  algo: string;
  logger: RunLogger;
  stats?: EpisodeStats;
  /** Where the progress line goes; null: no progress line. */
  progress?: NodeJS.WritableStream | null;
  minIntervalMs?: number;
  /** More scalars for each record (e.g. the SRM's loss). */
  extraMetrics?: () => Record<string, number>;
  now?: () => number;
}

export class TrainingMonitor implements Callback {
  readonly stats: EpisodeStats;
  private logsSeen = 0;
  private startMs = 0;
  private startSteps = 0;
  private lastDraw = 0;
  private readonly bar = new ProgressBarCallback();
  private stopReason: string | null = null;
  /** A message shown on the progress line's right (e.g. the last evaluation). */
  note = '';

  constructor(readonly opts: MonitorOptions) {
    this.stats = opts.stats ?? new EpisodeStats();
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** Ask training to stop after the current step (e.g. on Ctrl-C). */
  requestStop(reason: string): void {
    this.stopReason = reason;
  }

  get stopRequested(): string | null {
    return this.stopReason;
  }

  onTrainingStart(ctx: CallbackContext): void {
    this.startMs = this.now();
    this.startSteps = ctx.numTimesteps;
    this.logsSeen = this.opts.agent.logs.length;
  }

  /** The progress text for a state (exposed for tests). */
  line(ctx: Pick<CallbackContext, 'numTimesteps' | 'totalTimesteps'>): string {
    const elapsed = (this.now() - this.startMs) / 1000;
    const base = this.bar.render(ctx.numTimesteps - this.startSteps, ctx.totalTimesteps - this.startSteps, elapsed);
    const ret = mean(this.opts.agent.recentEpisodeReturns().slice(-this.stats.window));
    const iou = this.stats.meanIou();
    const parts = [
      base,
      `return ${Number.isFinite(ret) ? ret.toFixed(2) : '-'}`,
      `IoU ${Number.isFinite(iou) ? iou.toFixed(3) : '-'}`,
    ];
    if (this.note) parts.push(this.note);
    return parts.join(' | ');
  }

  /**
   * On a terminal the line is redrawn in place; into a file or pipe (a batch job's log) a full line
   * is written every 30 s instead, so logs stay readable.
   */
  private draw(ctx: CallbackContext, force: boolean): void {
    const stream = this.opts.progress;
    if (!stream) return;
    const tty = (stream as NodeJS.WriteStream).isTTY === true;
    const t = this.now();
    const interval = this.opts.minIntervalMs ?? (tty ? 500 : 30_000);
    if (!force && t - this.lastDraw < interval) return;
    this.lastDraw = t;
    const text = this.line(ctx);
    if (!tty) {
      stream.write(`${text}\n`);
      return;
    }
    const width = (stream as NodeJS.WriteStream).columns;
    stream.write(`\r${width ? text.slice(0, width - 1).padEnd(width - 1) : text}`);
  }

  /** Write agent log records that appeared since the last call. */
  flushLogs(): void {
    const logs = this.opts.agent.logs;
    for (; this.logsSeen < logs.length; this.logsSeen++) {
      const rec = logs[this.logsSeen];
      const step = typeof rec.timesteps === 'number' ? rec.timesteps : this.opts.agent.numTimesteps;
      this.opts.logger.log(step, {
        ...agentLogTags(rec, this.opts.algo),
        'rollout/ep_iou_mean': this.stats.meanIou(),
        'rollout/label_accuracy': this.stats.labelAccuracy(),
        'rollout/episodes': this.stats.episodes,
        ...(this.opts.extraMetrics?.() ?? {}),
      });
    }
  }

  onStep(ctx: CallbackContext): boolean {
    this.stats.observe(ctx.infos);
    this.flushLogs();
    this.draw(ctx, false);
    return this.stopReason === null;
  }

  onRolloutEnd(ctx: CallbackContext): void {
    this.flushLogs();
    this.draw(ctx, false);
  }

  /** An update's record is written before a checkpoint of it can be: a resumed run never misses it. */
  onUpdateEnd(): void {
    this.flushLogs();
  }

  onTrainingEnd(ctx: CallbackContext): void {
    this.flushLogs();
    this.draw(ctx, true);
    if (this.opts.progress && (this.opts.progress as NodeJS.WriteStream).isTTY) this.opts.progress.write('\n');
  }
}

/** Runs `run(step)` every `everySteps` env timesteps (e.g. an evaluation). */
export class EveryNSteps implements Callback {
  private next = 0;

  constructor(
    readonly everySteps: number,
    readonly run: (ctx: CallbackContext) => Promise<void>,
  ) {
    if (!(Number.isInteger(everySteps) && everySteps > 0))
      throw new Error(`EveryNSteps: everySteps must be a positive integer, got ${everySteps}`);
  }

  onTrainingStart(ctx: CallbackContext): void {
    this.next = (Math.floor(ctx.numTimesteps / this.everySteps) + 1) * this.everySteps;
  }

  async onStep(ctx: CallbackContext): Promise<boolean> {
    if (ctx.numTimesteps >= this.next) {
      this.next = (Math.floor(ctx.numTimesteps / this.everySteps) + 1) * this.everySteps;
      await this.run(ctx);
    }
    return true;
  }
}
