/**
 * evaluate(policy, env, episodes): plays whole episodes of the prompting env and scores the mask
 * after every click at full resolution: per-episode IoU curves, mIoU@k, NoC/NoF at IoU thresholds,
 * final IoU and Dice, the return, and how often the click labels were right. The same episode list
 * (sample index and reset seed) gives every policy the same images and the same initial prompts.
 */
import type { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { clickMetrics } from '../metrics/interactive';
import { meanMetrics } from '../metrics/aggregate';
import { dice, iou } from '../metrics/segmentation';
import type { Sample } from '../data/types';
import type { ClickPolicy } from './clickers';

export interface EpisodeSpec {
  /** Sample index in the env's data set (omitted: the env draws one from the seed). */
  index?: number;
  /** Seed of the env reset (and of the policy's randomness). */
  seed: number;
}

/** n episodes over a data set of `length` samples: indices 0, 1, ... (wrapping), seeds seed + i. */
export function episodeSpecs(length: number, n: number, seed = 0): EpisodeSpec[] {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`episodes must be a positive integer, got ${n}`);
  if (!(Number.isInteger(length) && length > 0)) throw new Error(`the evaluation data set is empty`);
  return Array.from({ length: n }, (_, i) => ({ index: i % length, seed: seed + i }));
}

export interface EpisodePicture {
  sample: Sample;
  /** Final mask at full resolution. */
  mask: Uint8Array;
  pointsXY: number[];
  labels: (0 | 1)[];
  /** The first `initialCount` points are the initial prompts P0. */
  initialCount: number;
}

export interface EpisodeResult {
  index: number;
  sampleId: string;
  targetName: string | null;
  return: number;
  /** IoU after the initial prompts (0 without any). */
  initialIou: number;
  /** IoU after each agent click: ious[k - 1] after k clicks. */
  ious: number[];
  finalIou: number;
  finalDice: number;
  /** Fraction of agent clicks whose label agrees with the ground truth at the point. */
  labelAccuracy: number;
  metrics: Record<string, number>;
  picture?: EpisodePicture;
}

export interface EvaluationReport {
  policy: string;
  episodes: EpisodeResult[];
  /** Means over episodes of every metric (mIoU@k as `iou@k`, NoC as `noc@85` ...). */
  mean: Record<string, number>;
  /** Mean IoU after k clicks, k = 1..horizon (index k - 1). */
  meanIouCurve: number[];
}

export interface EvaluateOptions {
  /** k of mIoU@k. Default [1, 3, 5, 10, 15] (those <= horizon). */
  ks?: readonly number[];
  thresholds?: readonly number[];
  /** Keep pictures of the first n episodes. Default 0. */
  pictures?: number;
  /** Called after each episode (e.g. a progress bar). */
  onEpisode?: (done: number, total: number, result: EpisodeResult) => void;
}

export async function evaluate(
  policy: ClickPolicy,
  env: SamPromptEnv,
  episodes: number | readonly EpisodeSpec[],
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  // A count n means seeds 0..n-1, each choosing its sample through the env's seeded draw.
  const specs: readonly EpisodeSpec[] =
    typeof episodes === 'number' ? Array.from({ length: checkCount(episodes) }, (_, i) => ({ seed: i })) : episodes;
  const ks = (options.ks ?? [1, 3, 5, 10, 15]).filter((k) => k <= env.horizon);
  const results: EpisodeResult[] = [];
  for (const spec of specs) {
    policy.reset?.(spec.seed);
    const reset = await env.reset(
      spec.index === undefined ? { seed: spec.seed } : { seed: spec.seed, options: { index: spec.index } },
    );
    let obs = reset.observation;
    const sample = env.currentSample!;
    const initialCount = (reset.info.points as number[]).length / 2;
    const initialIou = initialCount > 0 ? iou(env.fullResolutionMask(), sample.mask) : 0;
    const ious: number[] = [];
    let ret = 0;
    let correct = 0;
    let info = reset.info;
    let mask: Uint8Array = new Uint8Array(sample.width * sample.height);
    for (;;) {
      const action = await policy.act(env, obs);
      const r = await env.step(action);
      ret += r.reward;
      info = r.info;
      mask = env.fullResolutionMask();
      ious.push(iou(mask, sample.mask));
      const pts = info.points as number[];
      const k = pts.length / 2 - 1;
      const x = Math.min(sample.width - 1, Math.floor(pts[2 * k]));
      const y = Math.min(sample.height - 1, Math.floor(pts[2 * k + 1]));
      if ((sample.mask[y * sample.width + x] !== 0 ? 1 : 0) === (info.labels as number[])[k]) correct++;
      obs = r.observation;
      if (r.terminated || r.truncated) break;
    }
    const finalIou = ious[ious.length - 1];
    const p0 = initialPositiveInTarget(
      sample,
      reset.info.points as number[],
      reset.info.labels as number[],
      initialCount,
    );
    const metrics: Record<string, number> = {
      return: ret,
      final_iou: finalIou,
      final_dice: dice(mask, sample.mask),
      initial_iou: initialIou,
      label_accuracy: correct / ious.length,
      ...clickMetrics(ious, { ks, thresholds: options.thresholds ?? [0.85, 0.9] }),
    };
    if (p0 !== null) metrics.p0_positive_in_target = p0;
    const result: EpisodeResult = {
      index: reset.info.sample_index as number,
      sampleId: sample.id,
      targetName: sample.targetName,
      return: ret,
      initialIou,
      ious,
      finalIou,
      finalDice: metrics.final_dice,
      labelAccuracy: metrics.label_accuracy,
      metrics,
    };
    if (results.length < (options.pictures ?? 0)) {
      result.picture = {
        sample,
        mask,
        pointsXY: (info.points as number[]).slice(),
        labels: (info.labels as (0 | 1)[]).slice(),
        initialCount,
      };
    }
    results.push(result);
    options.onEpisode?.(results.length, specs.length, result);
  }
  const horizon = Math.max(...results.map((r) => r.ious.length));
  const meanIouCurve = Array.from(
    { length: horizon },
    (_, k) => results.reduce((a, r) => a + r.ious[Math.min(k, r.ious.length - 1)], 0) / results.length,
  );
  return { policy: policy.name, episodes: results, mean: meanMetrics(results.map((r) => r.metrics)), meanIouCurve };
}

/** 1 when the first positive initial prompt lies in the target, 0 when not, null without one. */
function initialPositiveInTarget(
  sample: Sample,
  points: number[],
  labels: number[],
  initialCount: number,
): number | null {
  for (let k = 0; k < initialCount; k++) {
    if (labels[k] !== 1) continue;
    const x = Math.min(sample.width - 1, Math.max(0, Math.floor(points[2 * k])));
    const y = Math.min(sample.height - 1, Math.max(0, Math.floor(points[2 * k + 1])));
    return sample.mask[y * sample.width + x] !== 0 ? 1 : 0;
  }
  return null;
}

function checkCount(n: number): number {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`evaluate: episodes must be a positive integer, got ${n}`);
  return n;
}

/**
 * Means of every metric per target name, when the episodes ask for more than one name (an explicit
 * task); null otherwise. A named task is only as good as its worst name, which the overall mean hides.
 */
export function meansByTarget(
  episodes: readonly EpisodeResult[],
): Record<string, { episodes: number; mean: Record<string, number> }> | null {
  const groups = new Map<string, Record<string, number>[]>();
  for (const e of episodes) {
    if (e.targetName === null) return null;
    const g = groups.get(e.targetName) ?? [];
    g.push(e.metrics);
    groups.set(e.targetName, g);
  }
  if (groups.size < 2) return null;
  const out: Record<string, { episodes: number; mean: Record<string, number> }> = {};
  for (const name of [...groups.keys()].sort()) {
    const records = groups.get(name)!;
    out[name] = { episodes: records.length, mean: meanMetrics(records) };
  }
  return out;
}

/** The report without pictures (for eval.json). */
export function reportToJson(report: EvaluationReport): Record<string, unknown> {
  const byTarget = meansByTarget(report.episodes);
  return {
    policy: report.policy,
    mean: report.mean,
    ...(byTarget ? { mean_by_target: byTarget } : {}),
    mean_iou_curve: report.meanIouCurve,
    episodes: report.episodes.map((e) => ({
      index: e.index,
      sample_id: e.sampleId,
      target_name: e.targetName,
      return: e.return,
      initial_iou: e.initialIou,
      ious: e.ious,
      final_dice: e.finalDice,
      label_accuracy: e.labelAccuracy,
    })),
  };
}
