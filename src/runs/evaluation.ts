/**
 * The evaluation of a run from its config: the agent and `eval.baselines` on `n` episodes of the
 * evaluation split (the same episodes for every row), with a progress line, and its JSON form.
 */
import type { AlignSamConfig } from '../config/alignsam-config';
import type { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import type { ClickPolicy } from '../eval/clickers';
import { evaluateWithBaselines, type ComparisonReport } from '../eval/compare';
import { episodeSpecs, reportToJson } from '../eval/evaluate';
import { ProgressLine } from './progress-line';

export interface RunEvaluationOptions {
  datasetLength: number;
  pictures?: number;
  /** Rows beside the agent; default: the config's eval.baselines. */
  baselines?: AlignSamConfig['eval']['baselines'];
  /** Progress line stream (null: none). */
  progress?: NodeJS.WritableStream | null;
}

export async function evaluateFromConfig(config: AlignSamConfig, env: SamPromptEnv, agent: ClickPolicy | null, episodes: number, opts: RunEvaluationOptions): Promise<ComparisonReport[]> {
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
      onEpisode: progress ? (policy, done, total) => progress.update(`evaluating ${policy}`, done, total, 'episodes') : undefined,
    });
  } finally {
    progress?.end();
  }
}

/** eval.json: which checkpoint, the protocol, and every row. */
export function evaluationJson(reports: readonly ComparisonReport[], meta: { checkpoint: string | null; step: number | null; episodes: number }): Record<string, unknown> {
  return {
    protocol: reports[0]?.protocol ?? null,
    checkpoint: meta.checkpoint,
    step: meta.step,
    episodes: meta.episodes,
    policies: reports.map((r) => ({ description: r.description, protocol: r.protocol, ...reportToJson(r) })),
  };
}
