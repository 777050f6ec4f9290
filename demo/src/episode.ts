/**
 * One episode of the exported agent on one image, advanced a click at a time so the page can
 * draw each step: the same env and policy calls as `alignsam predict` (src/runs/predict.ts), with
 * the ground truth used only to report IoU when the image is a synthetic scene.
 */
import type { RgbImage, SegmentationDataset } from '../../src/data/types';
import { SamPromptEnv } from '../../src/env/prompt/sam-prompt-env';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { exportEnvOptions } from '../../src/runs/export-env';
import type { BrowserExport } from './load-export';
import { PageEmbeddings } from './page-embeddings';

export interface DemoClick {
  /** 0 for the initial prompts, then 1, 2, ... */
  step: number;
  x: number;
  y: number;
  label: 0 | 1;
  cell: number | null;
}

export interface DemoStepView {
  /** Agent clicks made so far (0 after the initial prompts). */
  t: number;
  clicks: DemoClick[];
  /** Binary mask at the image's size after this step. */
  mask: Uint8Array;
  maskArea: number;
  /** IoU with the ground truth, when there is one. */
  iou: number | null;
  /** Time this step took (labelling, policy, SAM decoder, mask upsampling). */
  ms: number;
}

export interface EpisodeInput {
  image: RgbImage;
  /** Target name (used when the agent takes one). */
  target: string | null;
  /** Ground-truth mask (synthetic scenes), for IoU only. */
  groundTruth?: Uint8Array | null;
}

function iouOf(mask: Uint8Array, gt: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < mask.length; i++) {
    const a = mask[i] !== 0;
    const b = gt[i] !== 0;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export class DemoEpisode {
  readonly clicks: DemoClick[] = [];
  readonly horizon: number;
  private observation: PromptObservation | null = null;
  private t = 0;
  private closed = false;

  private constructor(
    private readonly exp: BrowserExport,
    private readonly env: SamPromptEnv,
    private readonly input: EpisodeInput,
  ) {
    this.horizon = exp.manifest.env.horizon;
  }

  get done(): boolean {
    return this.t >= this.horizon;
  }

  /** Encodes the image (unless cached) and places the initial prompts; returns step 0's view. */
  static async start(
    exp: BrowserExport,
    embeddings: PageEmbeddings,
    input: EpisodeInput,
  ): Promise<{ episode: DemoEpisode; view: DemoStepView; encodeMs: number }> {
    const { image } = input;
    const name = exp.textDim > 0 ? (input.target ?? '').trim() : null;
    if (exp.textDim > 0 && !name) throw new Error('this agent was trained on named targets: type the target name');
    if (name) await exp.prepareTarget(name);
    const dataset: SegmentationDataset = {
      name: 'page',
      length: 1,
      // The env's rewards read this mask; only IoU on the page uses the real ground truth.
      get: async () => ({
        id: 'page',
        image,
        mask: new Uint8Array(image.width * image.height),
        width: image.width,
        height: image.height,
        targetName: name,
      }),
    };
    const env = new SamPromptEnv({
      ...exportEnvOptions(exp, dataset, embeddings.asCache()),
      // Only custom reward modules resolve against it; without it the env asks process.cwd().
      rewardBaseDir: '.',
    });
    const episode = new DemoEpisode(exp, env, input);
    try {
      const t0 = performance.now();
      const { observation, info } = await env.reset({ seed: 0, options: { index: 0 } });
      episode.observation = observation;
      const pts = info.points as number[];
      const labels = info.labels as (0 | 1)[];
      for (let i = 0; i < labels.length; i++) {
        episode.clicks.push({
          step: 0,
          x: pts[2 * i],
          y: pts[2 * i + 1],
          label: labels[i],
          cell: env.grid.cellOf(pts[2 * i], pts[2 * i + 1], image.width, image.height),
        });
      }
      return { episode, view: episode.view(performance.now() - t0), encodeMs: embeddings.lastEncodeMs };
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  /** The agent's next click and SAM's new mask. */
  async step(): Promise<DemoStepView> {
    if (this.closed) throw new Error('episode closed');
    if (this.done) throw new Error(`the episode is over (${this.horizon} clicks, the agent's horizon)`);
    const t0 = performance.now();
    const action = this.exp.policy.act([this.observation!], { deterministic: true })[0];
    const r = await this.env.step(action);
    this.observation = r.observation;
    this.t++;
    const pts = r.info.points as number[];
    const labels = r.info.labels as (0 | 1)[];
    const i = labels.length - 1;
    this.clicks.push({ step: this.t, x: pts[2 * i], y: pts[2 * i + 1], label: labels[i], cell: r.info.cell as number });
    return this.view(performance.now() - t0);
  }

  private view(ms: number): DemoStepView {
    const mask = this.env.fullResolutionMask();
    let area = 0;
    for (let i = 0; i < mask.length; i++) area += mask[i] ? 1 : 0;
    const gt = this.input.groundTruth;
    return {
      t: this.t,
      clicks: this.clicks.map((c) => ({ ...c })),
      mask,
      maskArea: area,
      iou: gt ? iouOf(mask, gt) : null,
      ms,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}
