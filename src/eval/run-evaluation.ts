/**
 * The evaluation of a run from its config: the agent and `eval.baselines` on `n` episodes of the
 * evaluation split (the same episodes for every row), with a progress line; its JSON form
 * (eval.json) and its scalars for the metrics log.
 */
import type { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { writeJsonFileAtomic } from '../io/json-file';
import { ProgressLine } from '../utils/progress-line';
import type { ClickPolicy } from './clickers';
import { evaluateWithBaselines, type BaselineName, type ComparisonReport } from './compare';
import { episodeSpecs, reportToJson, type EvaluationReport } from './evaluate';

/** What of a run config the evaluation reads (the run config, src/config, sits above eval). */
export interface RunEvaluationConfig {
  train: { seed: number };
  eval: { baselines: readonly BaselineName[]; clicks: readonly number[]; thresholds: readonly number[] };
}

export interface RunEvaluationOptions {
  datasetLength: number;
  pictures?: number;
  /** Rows beside the agent; default: the config's eval.baselines. */
  baselines?: readonly BaselineName[];
  /** Progress line stream (null: none). */
  progress?: NodeJS.WritableStream | null;
}

export async function evaluateFromConfig(
  config: RunEvaluationConfig,
  env: SamPromptEnv,
  agent: ClickPolicy | null,
  episodes: number,
  opts: RunEvaluationOptions,
): Promise<ComparisonReport[]> {
  const specs = episodeSpecs(opts.datasetLength, episodes, 1_000_003 + config.train.seed);
  const progress = opts.progress ? new ProgressLine(opts.progress) : null;
  try {
    return await evaluateWithBaselines(env, agent, {
      baselines: opts.baselines ?? config.eval.baselines,
      episodes: specs,
      ks: config.eval.clicks.filter((k) => k <= env.horizon),
      thresholds: config.eval.thresholds,
      pictures: opts.pictures ?? 0,
      seed: config.train.seed,
      onEpisode: progress
        ? (policy, done, total) => progress.update(`evaluating ${policy}`, done, total, 'episodes')
        : undefined,
    });
  } finally {
    progress?.end();
  }
}

/** eval.json: which checkpoint, the protocol, and every row. */
export function evaluationJson(
  reports: readonly ComparisonReport[],
  meta: { checkpoint: string | null; step: number | null; episodes: number },
): Record<string, unknown> {
  return {
    protocol: reports[0]?.protocol ?? null,
    checkpoint: meta.checkpoint,
    step: meta.step,
    episodes: meta.episodes,
    policies: reports.map((r) => ({ description: r.description, protocol: r.protocol, ...reportToJson(r) })),
  };
}

/** Writes eval.json atomically (a reader never sees half of it). */
export async function writeEvaluationJson(
  file: string,
  reports: readonly ComparisonReport[],
  meta: { checkpoint: string | null; step: number | null; episodes: number },
): Promise<void> {
  await writeJsonFileAtomic(file, evaluationJson(reports, meta));
}

/** A row's means as metrics-log scalars: `eval/<metric>` for the agent, `baseline/<policy>/<metric>` for the others. */
export function evaluationScalars(r: EvaluationReport): Record<string, number> {
  const prefix = r.policy === 'agent' ? 'eval' : `baseline/${r.policy}`;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.mean)) out[`${prefix}/${k === 'return' ? 'mean_return' : k}`] = v;
  return out;
}
