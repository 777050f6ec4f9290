/**
 * The ablation's summary (ablation.json): for each row (an agent variant, or a reference row of
 * the full runs), every metric per seed, its mean and sample standard deviation over seeds, and
 * the mean IoU curve; with where and how it was made. This JSON is the one source of the results
 * page and the README's headline table; runs/ablation-summary.ts makes it from an ablation's runs.
 */
import * as fs from 'fs';

export const ABLATION_FORMAT = 'alignsam-tfjs/ablation';

/** What a row (or a family of rows, such as T = k) is, for the legend under the results table. */
export interface RowLegend {
  term: string;
  text: string;
}

const horizonLegend: RowLegend = { term: 'T = k', text: 'is the agent trained and evaluated with k clicks' };

/**
 * The rows of a summary, in display order: the variants' agents first, then the full runs'
 * reference rows. `variant` and `policy` say which run and which evaluation row each comes from.
 */
export const ABLATION_ROWS: ReadonlyArray<{ name: string; variant: string; policy: string; legend: RowLegend }> = [
  {
    name: 'full',
    variant: 'full',
    policy: 'agent',
    legend: { term: 'full', text: 'is the trained agent with the SRM' },
  },
  {
    name: 'w/o RL',
    variant: 'full',
    policy: 'random',
    legend: { term: 'w/o RL', text: 'is random cells with the same SRM labels' },
  },
  {
    name: 'w/o SRM',
    variant: 'no-srm',
    policy: 'agent',
    legend: { term: 'w/o SRM', text: "is an agent trained to pick each click's label itself" },
  },
  { name: 'T = 1', variant: 'T1', policy: 'agent', legend: horizonLegend },
  { name: 'T = 5', variant: 'T5', policy: 'agent', legend: horizonLegend },
  { name: 'T = 10', variant: 'T10', policy: 'agent', legend: horizonLegend },
  {
    name: 'centre',
    variant: 'full',
    policy: 'centre',
    legend: { term: 'centre', text: 'clicks the unclicked cells nearest the centre' },
  },
  {
    name: 'oracle + SRM labels',
    variant: 'full',
    policy: 'oracle',
    legend: {
      term: 'oracle + SRM labels',
      text: "clicks the largest error region's deepest cell but takes the SRM's label",
    },
  },
  {
    name: 'ceiling',
    variant: 'full',
    policy: 'oracle-gt',
    legend: {
      term: 'ceiling',
      text: 'is that oracle with ground-truth labels (what this SAM reaches on this grid)',
    },
  },
  {
    name: 'random + true labels',
    variant: 'full',
    policy: 'random-gt',
    legend: {
      term: 'random + true labels',
      text: 'is random cells with ground-truth labels (does this SAM keep its mask as correct clicks accumulate?)',
    },
  },
  {
    name: 'SRM map',
    variant: 'full',
    policy: 'srm-map',
    legend: { term: 'SRM map', text: "is the SRM's own cell map, thresholded, as the mask (no SAM)" },
  },
];

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
