import type { Env, ResetOptions, ResetResult, StepResult } from '../types';
import { Wrapper } from './wrapper';

/** What `info.episode` holds at the end of an episode. */
export interface EpisodeStatistics {
  /** Undiscounted return. */
  r: number;
  /** Length in steps. */
  l: number;
  /** Seconds (6 decimals), measured from the `timeOrigin`. */
  t: number;
}

export interface RecordEpisodeStatisticsOptions {
  /** How many finished episodes the queues keep. Default 100. */
  bufferLength?: number;
  /**
   * What `t` measures from. 'creation' (default): seconds since this wrapper was built, as in
   * Stable-Baselines3's Monitor and Gym <= 0.21, which gives a wall-clock timeline of episodes.
   * 'episode': the duration of this episode, from its reset, as Gymnasium 1.x does.
   */
  timeOrigin?: 'creation' | 'episode';
  /** info key to write. Default 'episode'. */
  statsKey?: string;
}

/**
 * Sums rewards and counts steps; when a step terminates or truncates, adds
 * `info[statsKey] = {r, l, t}` (a new info object; the env's is not mutated) and pushes r, l, t to
 * `returnQueue`, `lengthQueue`, `timeQueue` (most recent `bufferLength` episodes).
 */
export class RecordEpisodeStatistics<Obs, Act> extends Wrapper<Obs, Act> {
  readonly returnQueue: number[] = [];
  readonly lengthQueue: number[] = [];
  readonly timeQueue: number[] = [];
  episodeCount = 0;
  private episodeReturn = 0;
  private episodeLength = 0;
  private readonly createdAt = performance.now();
  private episodeStart = this.createdAt;
  private readonly bufferLength: number;
  private readonly timeOrigin: 'creation' | 'episode';
  private readonly statsKey: string;

  constructor(env: Env<Obs, Act>, options: RecordEpisodeStatisticsOptions = {}) {
    super(env);
    this.bufferLength = options.bufferLength ?? 100;
    this.timeOrigin = options.timeOrigin ?? 'creation';
    this.statsKey = options.statsKey ?? 'episode';
    if (!Number.isInteger(this.bufferLength) || this.bufferLength <= 0) {
      throw new Error(`RecordEpisodeStatistics: bufferLength must be a positive integer, got ${options.bufferLength}`);
    }
  }

  override async reset(opts?: ResetOptions): Promise<ResetResult<Obs>> {
    const result = await this.env.reset(opts);
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.episodeStart = performance.now();
    return result;
  }

  override async step(action: Act): Promise<StepResult<Obs>> {
    const result = await this.env.step(action);
    this.episodeReturn += result.reward;
    this.episodeLength += 1;
    if (!result.terminated && !result.truncated) return result;
    if (this.statsKey in result.info) {
      throw new Error(
        `RecordEpisodeStatistics: info already has a '${this.statsKey}' key; set statsKey to another name`,
      );
    }
    const origin = this.timeOrigin === 'creation' ? this.createdAt : this.episodeStart;
    const stats: EpisodeStatistics = {
      r: this.episodeReturn,
      l: this.episodeLength,
      t: Math.round((performance.now() - origin) * 1000) / 1e6,
    };
    this.push(stats);
    return { ...result, info: { ...result.info, [this.statsKey]: stats } };
  }

  private push(stats: EpisodeStatistics): void {
    this.episodeCount += 1;
    for (const [queue, v] of [
      [this.returnQueue, stats.r],
      [this.lengthQueue, stats.l],
      [this.timeQueue, stats.t],
    ] as const) {
      queue.push(v);
      if (queue.length > this.bufferLength) queue.shift();
    }
  }
}
