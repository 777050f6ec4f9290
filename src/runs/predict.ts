/**
 * Inference with an exported agent on one image: SAM encodes it once, the agent clicks up to its
 * horizon (labels from its SRM or its own action), SAM segments from all clicks. No ground truth
 * is involved: the env runs on a one-sample data set whose mask is empty, and its rewards are
 * ignored.
 */
import type { RgbImage, SegmentationDataset } from '../data/types';
import type { ClickPolicy } from '../eval/clickers';
import { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { EmbeddingCache } from '../sam/embedding-cache';
import type { LoadedExport } from './export';
import { exportEnvOptions } from './export-env';

export interface PredictedClick {
  /** 0 for the initial prompts, then 1, 2, ... */
  step: number;
  x: number;
  y: number;
  label: 0 | 1;
  cell: number | null;
}

export interface Prediction {
  width: number;
  height: number;
  target: string | null;
  clicks: PredictedClick[];
  initialCount: number;
  /** Full-resolution binary mask after the last click. */
  mask: Uint8Array;
  maskArea: number;
}

/** The exported policy as a click policy (deterministic). */
export function exportPolicy(exp: LoadedExport): ClickPolicy {
  return { name: 'agent', act: (_env, obs) => exp.policy.act([obs], { deterministic: true })[0] };
}

export async function predictImage(
  exp: LoadedExport,
  image: RgbImage,
  target: string | null,
  opts: { clicks?: number; id?: string } = {},
): Promise<Prediction> {
  const e = exp.manifest.env;
  if (exp.textDim > 0 && !target)
    throw new Error('this agent was trained on named targets: give the target name (--target)');
  // Ignoring the name would segment whatever the agent learned to find and label it as the target.
  if (exp.textDim === 0 && target)
    throw new Error(
      `this agent was trained without target names (one implicit target), so it cannot look for '${target}': leave out --target`,
    );
  const name = exp.textDim > 0 ? target : null;
  if (name) await exp.prepareTarget(name);
  const clicks = opts.clicks ?? e.horizon;
  if (!(Number.isInteger(clicks) && clicks >= 1 && clicks <= e.horizon))
    throw new Error(`clicks must be an integer in [1, ${e.horizon}] (the agent's horizon), got ${opts.clicks}`);
  const dataset: SegmentationDataset = {
    name: 'predict',
    length: 1,
    get: async () => ({
      id: opts.id ?? 'image',
      image,
      mask: new Uint8Array(image.width * image.height),
      width: image.width,
      height: image.height,
      targetName: name,
    }),
  };
  const cache = new EmbeddingCache(exp.sam, { maxInMemory: 1 });
  const env = new SamPromptEnv(exportEnvOptions(exp, dataset, cache));
  const policy = exportPolicy(exp);
  try {
    let { observation, info } = await env.reset({ seed: 0, options: { index: 0 } });
    const initialCount = (info.points as number[]).length / 2;
    const p0 = info.points as number[];
    const cells: (number | null)[] = Array.from({ length: initialCount }, (_, i) =>
      env.grid.cellOf(p0[2 * i], p0[2 * i + 1], image.width, image.height),
    );
    for (let k = 0; k < clicks; k++) {
      const r = await env.step(await policy.act(env, observation));
      observation = r.observation;
      info = r.info;
      cells.push(r.info.cell as number);
      if (r.terminated || r.truncated) break;
    }
    const pts = info.points as number[];
    const labels = info.labels as (0 | 1)[];
    const mask = env.fullResolutionMask();
    let area = 0;
    for (let i = 0; i < mask.length; i++) area += mask[i] ? 1 : 0;
    return {
      width: image.width,
      height: image.height,
      target: name,
      clicks: labels.map((label, i) => ({
        step: i < initialCount ? 0 : i - initialCount + 1,
        x: pts[2 * i],
        y: pts[2 * i + 1],
        label,
        cell: cells[i],
      })),
      initialCount,
      mask,
      maskArea: area,
    };
  } finally {
    await env.close();
    cache.clear();
  }
}
