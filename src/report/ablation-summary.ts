/**
 * The ablation's summary (ablation.json): for each row (an agent variant, or a reference row of
 * the full runs), every metric per seed, its mean and sample standard deviation over seeds, and
 * the mean IoU curve; with where and how it was made. This JSON is the one source of the results
 * page and the README's headline table; runs/ablation-summary.ts makes it from an ablation's runs.
 */
import * as fs from 'fs';

export const ABLATION_FORMAT = 'alignsam-tfjs/ablation';

export interface AblationRow {
  name: string;
  description: string;
  /** Which run variant and which evaluation row it comes from. */
  variant: string;
  policy: string;
  /** Metric -> value per seed (seed order). */
  perSeed: Record<string, number[]>;
  mean: Record<string, number>;
  sd: Record<string, number>;
  /** Mean over seeds of the mean IoU after k clicks, k = 1..T. */
  curve: number[];
  /** Named tasks: final mIoU of each target name, per seed, with mean and sd over seeds. */
  byTarget?: Record<string, { episodes: number[]; perSeed: number[]; mean: number; sd: number }>;
}

export interface AblationSummary {
  format: string;
  formatVersion: 1;
  config: string;
  protocol: string;
  seeds: number;
  episodes: number;
  totalTimesteps: Record<string, number>;
  created: string;
  commit: string | null;
  machine: string;
  backend: string | null;
  /** Sum of the runs' wall-clock seconds, and the longest run's. */
  runWallSeconds: number;
  maxRunWallSeconds: number;
  /** Wall-clock seconds of the ablate invocations that trained runs of the set, summed. */
  commandWallSeconds: number;
  jobs: number;
  /**
   * The config file the full variant's first seed trained from, every key resolved: the page
   * records the settings, not only the config's path (absent from summaries made before).
   */
  runConfig?: string;
  rows: AblationRow[];
}

export function readAblationSummary(file: string): AblationSummary {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (j?.format !== ABLATION_FORMAT || j.formatVersion !== 1)
    throw new Error(`${file}: not an ablation summary (format ${JSON.stringify(j?.format)})`);
  if (!Array.isArray(j.rows)) throw new Error(`${file}: 'rows' must be an array`);
  return j as AblationSummary;
}
