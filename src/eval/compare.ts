/**
 * An agent and the reference rows of the AlignSAM ablations, evaluated on one list of episodes
 * (same images, same reset seeds, so the same initial prompts):
 * - random:    random cells, labels from the env's label source (the paper's "w/o RL");
 * - centre:    the unclicked cell nearest the grid centre;
 * - oracle:    the oracle clicker (it reads the ground truth to choose cells), labels from the
 *              env's label source: how good the labels are on the best cells;
 * - oracle-gt: the oracle clicker with ground-truth labels, in an env that differs only in its
 *              label source: what this SAM reaches on this grid (the ceiling);
 * - random-gt: random cells with ground-truth labels, in that env: whether this SAM holds its
 *              mask under correct clicks anywhere (it should not lose much as clicks accumulate);
 * - srm-map:   no SAM at all: the labeler's grid map, thresholded and upsampled, is the mask
 *              (does SAM add anything over the SRM alone?).
 * Every report says which protocol made it (`SamPromptEnv.protocol`).
 */
import type { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { clickMetrics } from '../metrics/interactive';
import { meanMetrics } from '../metrics/aggregate';
import { dice, iou } from '../metrics/segmentation';
import { createBaseline, type ClickPolicy } from './clickers';
import { evaluate, meansByTarget, type EpisodeResult, type EpisodeSpec, type EvaluationReport } from './evaluate';

export const BASELINE_NAMES = ['random', 'centre', 'oracle', 'oracle-gt', 'random-gt', 'srm-map'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

export type Protocol = SamPromptEnv['protocol'];

/** What each row is, for tables and JSON; `labels` is the env's label source in words. */
export function describePolicy(name: string, labels: string): string {
  switch (name) {
    case 'agent':
      return `agent + ${labels}`;
    case 'random':
      return `random cells + ${labels} (w/o RL)`;
    case 'centre':
      return `centre cells + ${labels}`;
    case 'oracle':
      return `oracle clicker + ${labels}`;
    case 'oracle-gt':
      return 'oracle clicker + ground-truth labels (ceiling)';
    case 'random-gt':
      return 'random cells + ground-truth labels';
    case 'srm-map':
      return 'SRM grid map as the mask (no SAM)';
    default:
      return name;
  }
}

export function labelsInWords(env: SamPromptEnv): string {
  return env.labelSource === 'recalibration'
    ? 'SRM labels'
    : env.labelSource === 'oracle'
      ? 'ground-truth labels'
      : 'agent labels';
}

export interface ComparisonReport extends EvaluationReport {
  description: string;
  protocol: Protocol;
}

export interface CompareOptions {
  baselines: readonly BaselineName[];
  episodes: readonly EpisodeSpec[];
  ks?: readonly number[];
  thresholds?: readonly number[];
  pictures?: number;
  /** Seeds the random clicker. */
  seed?: number;
  onEpisode?: (policy: string, done: number, total: number) => void;
}

/** The agent (when given) and each baseline on the same episodes of `env`. */
export async function evaluateWithBaselines(
  env: SamPromptEnv,
  agent: ClickPolicy | null,
  opts: CompareOptions,
): Promise<ComparisonReport[]> {
  const labels = labelsInWords(env);
  const out: ComparisonReport[] = [];
  const common = { ks: opts.ks, thresholds: opts.thresholds, pictures: opts.pictures ?? 0 };
  const rows: string[] = [...(agent ? ['agent'] : []), ...opts.baselines];
  for (const name of rows) {
    const onEpisode = (done: number, total: number) => opts.onEpisode?.(name, done, total);
    let report: EvaluationReport;
    if (name === 'agent') {
      report = await evaluate(agent!, env, opts.episodes, { ...common, onEpisode });
    } else if (name === 'srm-map') {
      if (!env.labeler) continue;
      report = await evaluateLabelerMap(env, opts.episodes, { ...common, onEpisode });
    } else if (name === 'oracle-gt' || name === 'random-gt') {
      const rowEnv = env.variant({ labelSource: 'oracle' });
      const clicker = createBaseline(name === 'oracle-gt' ? 'oracle' : 'random', opts.seed ?? 0);
      try {
        report = await evaluate(clicker, rowEnv, opts.episodes, { ...common, onEpisode });
      } finally {
        await rowEnv.close();
      }
      report = { ...report, policy: name };
    } else {
      report = await evaluate(
        createBaseline(name as 'random' | 'centre' | 'oracle', opts.seed ?? 0),
        env,
        opts.episodes,
        { ...common, onEpisode },
      );
    }
    out.push({ ...report, description: describePolicy(name, labels), protocol: env.protocol });
  }
  return out;
}

/**
 * The labeler's cell map of each episode's first state, thresholded at 0.5 and upsampled to the
 * image (each pixel takes its cell's value), scored like a click curve that never changes.
 */
export async function evaluateLabelerMap(
  env: SamPromptEnv,
  episodes: readonly EpisodeSpec[],
  options: {
    ks?: readonly number[];
    thresholds?: readonly number[];
    onEpisode?: (done: number, total: number) => void;
  } = {},
): Promise<EvaluationReport> {
  const labeler = env.labeler;
  if (!labeler) throw new Error('evaluateLabelerMap: the env has no labeler');
  const ks = (options.ks ?? [1, 3, 5, 10, 15]).filter((k) => k <= env.horizon);
  const results: EpisodeResult[] = [];
  for (const spec of episodes) {
    const reset = await env.reset(
      spec.index === undefined ? { seed: spec.seed } : { seed: spec.seed, options: { index: spec.index } },
    );
    const sample = env.currentSample!;
    const [scores] = await labeler.scoreCells([reset.observation]);
    const { width, height } = sample;
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++)
        mask[y * width + x] = scores[env.grid.cellOf(x + 0.5, y + 0.5, width, height)] >= 0.5 ? 1 : 0;
    }
    const v = iou(mask, sample.mask);
    const ious = new Array<number>(env.horizon).fill(v);
    const metrics: Record<string, number> = {
      final_iou: v,
      final_dice: dice(mask, sample.mask),
      ...clickMetrics(ious, { ks, thresholds: options.thresholds ?? [0.85, 0.9] }),
    };
    results.push({
      index: reset.info.sample_index as number,
      sampleId: sample.id,
      targetName: sample.targetName,
      return: NaN,
      initialIou: v,
      ious,
      finalIou: v,
      finalDice: metrics.final_dice,
      labelAccuracy: NaN,
      metrics,
    });
    options.onEpisode?.(results.length, episodes.length);
  }
  const meanIouCurve = Array.from(
    { length: env.horizon },
    (_, k) => results.reduce((a, r) => a + r.ious[k], 0) / results.length,
  );
  return { policy: 'srm-map', episodes: results, mean: meanMetrics(results.map((r) => r.metrics)), meanIouCurve };
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** The comparison as a text table: one row per policy, headed by the protocol. */
export function formatEvaluationTable(
  reports: readonly ComparisonReport[] | readonly EvaluationReport[],
  heading?: string,
): string {
  if (reports.length === 0) return '(no evaluation)';
  const keys = Object.keys(reports[0].mean).filter(
    (k) => k.startsWith('iou@') || k.startsWith('noc@') || k.startsWith('nof@'),
  );
  const hasP0 = reports.some((r) => r.mean.p0_positive_in_target !== undefined);
  const cols = [
    'policy',
    ...keys.map((k) =>
      k.startsWith('iou@') ? `mIoU@${k.slice(4)}` : k.startsWith('noc@') ? `NoC@${k.slice(4)}` : `NoF@${k.slice(4)}`,
    ),
    'final IoU',
    'label acc',
    ...(hasP0 ? ['P0+ in target'] : []),
    'return',
  ];
  const rows = reports.map((r) => [
    'description' in r ? (r as ComparisonReport).description : r.policy,
    ...keys.map((k) =>
      k.startsWith('iou@')
        ? fmt(r.mean[k], 3)
        : k.startsWith('nof@')
          ? r.mean[k] === undefined
            ? '-'
            : `${(100 * r.mean[k]).toFixed(0)}%`
          : fmt(r.mean[k], 2),
    ),
    fmt(r.mean.final_iou, 3),
    fmt(r.mean.label_accuracy, 3),
    ...(hasP0 ? [fmt(r.mean.p0_positive_in_target, 2)] : []),
    fmt(r.mean.return, 2),
  ]);
  const protocol = 'protocol' in reports[0] ? (reports[0] as ComparisonReport).protocol : null;
  const head =
    heading ??
    (protocol
      ? `Protocol: ${protocol}${protocol === 'deployed' ? ' (nothing from the ground truth enters the episodes: P0 and labels come from the SRM)' : ' (ground truth enters the episodes: P0 or labels)'}`
      : null);
  return [
    ...(head ? [head] : []),
    ...alignedTable(cols, rows),
    `(${reports[0].episodes.length} episodes each, the same for every policy)`,
    ...formatByTargetTable(reports),
  ].join('\n');
}

/** Final mIoU per target name, one column per name (empty for a task with one name). */
function formatByTargetTable(reports: readonly (ComparisonReport | EvaluationReport)[]): string[] {
  const groups = reports.map((r) => meansByTarget(r.episodes));
  const first = groups.find((g) => g !== null);
  if (!first) return [];
  const names = Object.keys(first);
  const cols = ['final IoU by target', ...names.map((n) => `${n} (${first[n].episodes})`)];
  const rows = reports.map((r, i) => [
    'description' in r ? (r as ComparisonReport).description : r.policy,
    ...names.map((n) => fmt(groups[i]?.[n]?.mean.final_iou, 3)),
  ]);
  return ['', ...alignedTable(cols, rows)];
}

/** Header, rule and rows, columns padded to their widest cell: the first left-aligned, the rest right. */
function alignedTable(cols: string[], rows: string[][]): string[] {
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
