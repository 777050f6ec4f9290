/**
 * Where a run's numbers go: metrics.jsonl and TensorBoard event files in the run folder, the same
 * scalars in both.
 */
import * as path from 'path';
import { EventFileWriter, hparamsSummaryValue, textSummaryValue, truncateEventFiles } from './tfevents';
import { MetricsWriter, truncateMetrics } from '../io/metrics-log';

export class RunLogger {
  private readonly metrics: MetricsWriter;
  private readonly events: EventFileWriter;
  private readonly t0: number;
  private readonly now: () => number;

  /**
   * `resumeFromStep`: the run continues from a checkpoint at this step; records after it (written
   * before the interruption) are removed first.
   */
  constructor(
    readonly dir: string,
    opts: { resumeFromStep?: number; now?: () => number } = {},
  ) {
    const metricsFile = path.join(dir, 'metrics.jsonl');
    if (opts.resumeFromStep !== undefined) {
      truncateMetrics(metricsFile, opts.resumeFromStep);
      truncateEventFiles(dir, opts.resumeFromStep);
    }
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.t0 = this.now();
    this.metrics = new MetricsWriter(metricsFile);
    this.events = new EventFileWriter(dir, { wallTime: this.t0 });
  }

  get metricsFile(): string {
    return this.metrics.file;
  }

  get eventFile(): string {
    return this.events.file;
  }

  log(step: number, scalars: Record<string, number>): void {
    const wall = this.now();
    this.metrics.append({ step, wall_time: wall, ...scalars });
    this.events.addScalars(step, scalars, wall);
  }

  /**
   * The run's settings for TensorBoard, once at the start of a run: the config as text (its Text
   * dashboard) and the hyper-parameters (its HParams dashboard).
   */
  logRunInfo(configText: string, hparams: Record<string, number | string | boolean>): void {
    this.events.addValues(
      0,
      [textSummaryValue('config', `\`\`\`yaml\n${configText}\`\`\``), hparamsSummaryValue(hparams, this.t0)],
      this.t0,
    );
  }

  close(): void {
    this.metrics.close();
    this.events.close();
  }
}
