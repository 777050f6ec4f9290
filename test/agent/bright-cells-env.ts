/**
 * "Find the bright cells": a tiny stand-in for the prompting env with a known optimal return.
 *
 * Each episode marks K of the G*G cells as bright. The embedding [G*s, G*s, C] has channel 0 = +1
 * over bright cells and -1 elsewhere (plus noise), the other channels are noise. An action clicks a
 * cell: reward +1 when it is bright and not clicked before, else -1. Clicked cells are masked.
 * With K >= T the best return is T (every click bright). With `terminateWhenAllFound` and K < T the
 * episode terminates when all K are found (best return K); otherwise it is truncated at T.
 *
 * With `categories` = 2, half the bright cells are of category 0 (channel 0) and half of category 1
 * (channel 1); the episode's target category is given by a one-hot text vector, and only target cells
 * pay. The embedding of an episode is one tensor shared by all its steps and disposed two resets
 * later, as the real env's cache may do.
 */
import * as tf from '@tensorflow/tfjs';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { CustomSpace } from '../../src/env/spaces/custom';
import { Discrete } from '../../src/env/spaces/discrete';
import type { Env, ResetOptions, ResetResult, RgbImage, StepResult } from '../../src/env/types';
import { Rng } from '../../src/utils/rng';

export interface BrightCellsOptions {
  gridSize?: number;
  /** Embedding pixels per cell side. */
  scale?: number;
  channels?: number;
  nBright?: number;
  horizon?: number;
  noise?: number;
  terminateWhenAllFound?: boolean;
  categories?: 1 | 2;
  /** Episode index to start from: episode i's layout depends only on (seed, i). */
  firstEpisode?: number;
  seed?: number;
  /** Tag to keep embedding keys unique across env instances. */
  name?: string;
}

export class BrightCellsEnv implements Env<PromptObservation, number> {
  readonly g: number;
  readonly s: number;
  readonly c: number;
  readonly k: number;
  readonly horizon: number;
  readonly noise: number;
  readonly terminateWhenAllFound: boolean;
  readonly categories: 1 | 2;
  readonly name: string;
  readonly actionSpace: Discrete;
  readonly observationSpace: CustomSpace<PromptObservation>;
  private seedBase: number;
  private episode: number;
  private bright = new Uint8Array(0);
  private clicked = new Uint8Array(0);
  private target = 0;
  private t = 0;
  private found = 0;
  private embedding: tf.Tensor | null = null;
  private previous: tf.Tensor | null = null;
  private key = '';
  private needsReset = true;

  constructor(o: BrightCellsOptions = {}) {
    this.g = o.gridSize ?? 4;
    this.s = o.scale ?? 2;
    this.c = o.channels ?? 4;
    this.k = o.nBright ?? 4;
    this.horizon = o.horizon ?? 3;
    this.noise = o.noise ?? 0.3;
    this.terminateWhenAllFound = o.terminateWhenAllFound ?? false;
    this.categories = o.categories ?? 1;
    this.seedBase = o.seed ?? 0;
    this.episode = (o.firstEpisode ?? 0) - 1;
    this.name = o.name ?? 'bright';
    this.actionSpace = new Discrete(this.g * this.g);
    this.observationSpace = new CustomSpace<PromptObservation>({
      name: 'PromptObservation',
      contains: (x): x is PromptObservation => x !== null && typeof x === 'object' && 'embedding' in (x as object),
      sample: () => {
        throw new Error('BrightCellsEnv: observation sampling is not supported');
      },
    });
  }

  /** Best achievable return of an episode. */
  get optimalReturn(): number {
    const payable = this.categories === 2 ? this.k / 2 : this.k;
    return Math.min(payable, this.horizon);
  }

  async reset(opts: ResetOptions = {}): Promise<ResetResult<PromptObservation>> {
    if (opts.seed !== undefined) {
      this.seedBase = opts.seed;
      this.episode = -1;
    }
    this.episode++;
    const rng = new Rng(this.seedBase * 100003 + this.episode);
    const n = this.g * this.g;
    const cells = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    this.bright = new Uint8Array(n);
    // bright[cell] = 1 + category
    for (let i = 0; i < this.k; i++) this.bright[cells[i]] = 1 + (this.categories === 2 ? i % 2 : 0);
    this.target = this.categories === 2 ? rng.int(2) : 0;
    this.clicked = new Uint8Array(n);
    this.t = 0;
    this.found = 0;
    const h = this.g * this.s;
    const data = new Float32Array(h * h * this.c);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < h; x++) {
        const cell = Math.floor(y / this.s) * this.g + Math.floor(x / this.s);
        for (let ch = 0; ch < this.c; ch++) {
          let v = this.noise * rng.normal();
          if (ch < this.categories) v += this.bright[cell] === ch + 1 ? 1 : -1;
          data[(y * h + x) * this.c + ch] = v;
        }
      }
    }
    // Keep the last episode's embedding one more episode: a same-step autoreset hands out its final
    // observation after this reset ran.
    this.previous?.dispose();
    this.previous = this.embedding;
    this.embedding = tf.tensor3d(data, [h, h, this.c]);
    this.key = `${this.name}:${this.seedBase}:${this.episode}`;
    this.needsReset = false;
    return { observation: this.observe(), info: { episode_index: this.episode } };
  }

  private pays(cell: number): boolean {
    return this.bright[cell] === this.target + 1;
  }

  async step(action: number): Promise<StepResult<PromptObservation>> {
    if (this.needsReset) throw new Error('BrightCellsEnv: step before reset (or after the episode ended)');
    if (!this.actionSpace.contains(action)) throw new Error(`BrightCellsEnv: invalid action ${action}`);
    const good = this.pays(action) && !this.clicked[action];
    this.clicked[action] = 1;
    if (good) this.found++;
    this.t++;
    const payable = this.categories === 2 ? this.k / 2 : this.k;
    const terminated = this.terminateWhenAllFound && this.found === payable;
    const truncated = !terminated && this.t >= this.horizon;
    if (terminated || truncated) this.needsReset = true;
    return { observation: this.observe(), reward: good ? 1 : -1, terminated, truncated, info: { found: this.found } };
  }

  private observe(): PromptObservation {
    const n = this.g * this.g;
    const h = this.g * this.s;
    const pos = new Float32Array(n);
    const neg = new Float32Array(n);
    const actionMask = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.clicked[i]) (this.pays(i) ? pos : neg)[i] = 1;
      actionMask[i] = this.clicked[i] ? 0 : 1;
    }
    const obs: PromptObservation = {
      embedding: { key: this.key, tensor: this.embedding as tf.Tensor },
      maskProbs: new Float32Array(h * h).fill(1),
      clicksPositive: pos,
      clicksNegative: neg,
      stepFraction: this.t / this.horizon,
      actionMask,
    };
    if (this.categories === 2)
      obs.textVector = Float32Array.from([this.target === 0 ? 1 : 0, this.target === 1 ? 1 : 0]);
    return obs;
  }

  async render(): Promise<RgbImage | null> {
    return null;
  }

  async close(): Promise<void> {
    this.embedding?.dispose();
    this.previous?.dispose();
    this.embedding = null;
    this.previous = null;
  }
}
