/**
 * The policy/value network (and DQN's Q-network) over the AlignSAM state s_t = E_I(x) * M_{t-1}.
 *
 *   E [He, We, C] --1x1 proj (no bias)--> [He, We, p]   (once per image: proj(E * m) = proj(E) * m)
 *     * mask probs m                                  (the AlignSAM gating)
 *     -> 3x3 conv + ReLU per `embedConvChannels`, each preceded by 2x2 average pools while the
 *        side stays >= embedConvMinSize (default ceil(1.5 G): 64 -> 16 for G = 10, so the convs
 *        run at 16 x 16, which resolves a 10 x 10 action grid at a quarter of the cost of 32 x 32)
 *     -> adaptive average pool to the G x G action grid
 *     ++ [mask pooled to the grid, positive clicks, negative clicks, step fraction,
 *         the labeler's cell scores when `labelerScores`]
 *     -> 3x3 conv + ReLU per `gridConvChannels`, the first modulated by FiLM from the text vector
 *     -> per-cell 1x1 head: logits (actor-critic) or Q-values, 1 or 2 per cell
 *     -> value head: global mean pool -> dense + ReLU -> dense
 *
 * Action layout with 2 outputs per cell ('agent' label source): `label-major` puts all G*G cells
 * with label 0 first, then all with label 1 (action = label * G*G + cell); `cell-major` interleaves
 * (action = cell * 2 + label). Cells are row-major on the grid.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d } from '../../tfjs-ops/conv2d';
import { gatherScalePool } from '../../tfjs-ops/gather-scale-pool';
import { projectGatherScalePool } from '../../tfjs-ops/project-gather-scale-pool';
import { projectConstant } from '../../tfjs-ops/project';
import { Rng } from '../../utils/rng';
import type { EmbeddingRef } from '../../env/prompt/observation';
import type { ObservationDims, PromptObservationBatch } from '../observation';
import { embeddingShape } from '../observation';
import { matMul2d } from '../../nn/matmul';
import { orthogonalConv, orthogonalDense } from '../../nn/init';
import { ParamSet } from '../../nn/params';
import { AdaptivePool } from '../../nn/pooling';
import { parseOptions } from '../../schema/schema';
import { type NetArchitecture, netArchitectureFields, netArchitectureSchema } from './net-architecture';

export type NetHead = 'actor-critic' | 'q';
export type { ActionLayout } from './net-architecture';

/** The architecture choices (net-architecture.ts) and the sizes read from the env. */
export interface PromptNetConfig extends NetArchitecture {
  /** Action grid side G (the paper's 10). */
  gridSize: number;
  /** Channels C of the image embedding (256 for SAM). */
  embedChannels: number;
  /** 1 when the env labels clicks (action = cell), 2 when the action also picks the label. */
  logitsPerCell: 1 | 2;
  /** Length of the text vector; 0 for tasks without a name. */
  textDim: number;
  /** Read the labeler's (SRM's) cell scores as one more grid channel. */
  labelerScores?: boolean;
  head: NetHead;
}

/** The architecture's defaults, with the paper's grid and SAM's embedding channels. */
export const DEFAULT_NET_CONFIG: Omit<PromptNetConfig, 'head'> = {
  gridSize: 10,
  embedChannels: 256,
  logitsPerCell: 1,
  textDim: 0,
  ...netArchitectureSchema.parse({}),
};

export interface NetOutput {
  /** [B, nActions]: action logits (actor-critic) or Q-values (q). */
  logits: tf.Tensor2D;
  /** [B] state values, actor-critic only. */
  values: tf.Tensor1D | null;
}

export function validateNetConfig(c: PromptNetConfig): void {
  const posInt = (v: unknown, name: string): void => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
      throw new Error(`network config: '${name}' must be a positive integer, got ${JSON.stringify(v)}`);
    }
  };
  posInt(c.gridSize, 'gridSize');
  posInt(c.embedChannels, 'embedChannels');
  if (c.logitsPerCell !== 1 && c.logitsPerCell !== 2)
    throw new Error(`network config: 'logitsPerCell' must be 1 or 2, got ${c.logitsPerCell}`);
  if (!(Number.isInteger(c.textDim) && c.textDim >= 0))
    throw new Error(`network config: 'textDim' must be an integer >= 0, got ${c.textDim}`);
  const architecture = Object.fromEntries(
    Object.keys(netArchitectureFields).map((k) => [k, c[k as keyof NetArchitecture]]),
  );
  parseOptions('network config', netArchitectureSchema, architecture);
  if (c.head !== 'actor-critic' && c.head !== 'q')
    throw new Error(`network config: 'head' must be 'actor-critic' or 'q', got ${JSON.stringify(c.head)}`);
}

interface CachedProjection {
  tensor: tf.Tensor4D;
  weightsId: unknown;
}

const SQRT2 = Math.SQRT2;

export class PromptNet {
  readonly config: PromptNetConfig;
  readonly params: ParamSet;
  readonly nActions: number;
  private readonly pool = new AdaptivePool();
  private readonly projCache = new Map<string, CachedProjection>();
  /** How many per-image projections the inference cache keeps. */
  projectionCacheSize = 64;

  constructor(config: PromptNetConfig, rng: Rng, label = 'net') {
    validateNetConfig(config);
    this.config = {
      ...config,
      embedConvChannels: [...config.embedConvChannels],
      gridConvChannels: [...config.gridConvChannels],
    };
    const c = this.config;
    this.nActions = c.logitsPerCell * c.gridSize * c.gridSize;
    const p = new ParamSet(label);
    this.params = p;
    const zeros = (n: number): Float32Array => new Float32Array(n);
    // The projection is linear (the mask multiplies its output), so it gets gain 1.
    p.add('proj/w', [c.embedChannels, c.projChannels], orthogonalDense(c.embedChannels, c.projChannels, 1, rng));
    let ch = c.projChannels;
    c.embedConvChannels.forEach((out, i) => {
      p.add(`embed${i}/w`, [3, 3, ch, out], orthogonalConv(3, 3, ch, out, SQRT2, rng));
      p.add(`embed${i}/b`, [out], zeros(out));
      ch = out;
    });
    ch += 4 + (c.labelerScores ? 1 : 0); // mask on the grid, positive clicks, negative clicks, step fraction[, labeler scores]
    c.gridConvChannels.forEach((out, i) => {
      p.add(`grid${i}/w`, [3, 3, ch, out], orthogonalConv(3, 3, ch, out, SQRT2, rng));
      p.add(`grid${i}/b`, [out], zeros(out));
      if (i === 0 && c.textDim > 0) {
        // FiLM: (1 + gamma) * h + beta, so zero text features leave h unchanged; gain 1 lets a
        // one-hot or unit-norm text vector modulate the features from the start.
        p.add('film/w', [c.textDim, 2 * out], orthogonalDense(c.textDim, 2 * out, 1, rng));
        p.add('film/b', [2 * out], zeros(2 * out));
      }
      ch = out;
    });
    const k = c.logitsPerCell;
    if (c.head === 'actor-critic') {
      p.add('pi/w', [ch, k], orthogonalDense(ch, k, 0.01, rng));
      p.add('pi/b', [k], zeros(k));
      p.add('v0/w', [ch, c.valueHidden], orthogonalDense(ch, c.valueHidden, SQRT2, rng));
      p.add('v0/b', [c.valueHidden], zeros(c.valueHidden));
      p.add('v1/w', [c.valueHidden, 1], orthogonalDense(c.valueHidden, 1, 1, rng));
      p.add('v1/b', [1], zeros(1));
    } else {
      p.add('q/w', [ch, k], orthogonalDense(ch, k, 1, rng));
      p.add('q/b', [k], zeros(k));
    }
  }

  /** The sizes an observation must have for this network on embeddings of [embedH, embedW]. */
  dims(embedH: number, embedW: number): ObservationDims {
    return {
      embedH,
      embedW,
      embedChannels: this.config.embedChannels,
      gridSize: this.config.gridSize,
      nActions: this.nActions,
      textDim: this.config.textDim,
      labelerScores: this.config.labelerScores === true,
    };
  }

  /** proj(E) for unique embeddings, [U, He, We, p]; cached per key when `useCache`. */
  private projectUnique(refs: EmbeddingRef[], useCache: boolean): tf.Tensor4D {
    const w = this.params.get('proj/w');
    const parts: tf.Tensor4D[] = [];
    const todo: EmbeddingRef[] = [];
    const todoAt: number[] = [];
    refs.forEach((ref, i) => {
      const hit = useCache ? this.projCache.get(ref.key) : undefined;
      if (hit && hit.weightsId === w.dataId) {
        // Most recently used goes last, so eviction takes the oldest.
        this.projCache.delete(ref.key);
        this.projCache.set(ref.key, hit);
        parts[i] = hit.tensor;
      } else {
        todo.push(ref);
        todoAt.push(i);
      }
    });
    const fresh: Array<[string, tf.Tensor4D]> = [];
    for (let j = 0; j < todo.length; j++) {
      // Per image, with the gradient for the weights only (the embedding is data).
      const [h, wd] = embeddingShape(todo[j], 'PromptNet');
      const one = tf.reshape(projectConstant(todo[j].tensor, w), [1, h, wd, this.config.projChannels]) as tf.Tensor4D;
      parts[todoAt[j]] = one;
      fresh.push([todo[j].key, one]);
    }
    const out = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor4D);
    // Cache after the batch is assembled, so that evictions never free a tensor still in use here.
    if (useCache) for (const [key, t] of fresh) this.remember(key, t, w.dataId);
    return out;
  }

  private remember(key: string, t: tf.Tensor4D, weightsId: unknown): void {
    const old = this.projCache.get(key);
    if (old) {
      old.tensor.dispose();
      this.projCache.delete(key);
    }
    while (this.projCache.size >= this.projectionCacheSize) {
      const [oldest, entry] = this.projCache.entries().next().value as [string, CachedProjection];
      entry.tensor.dispose();
      this.projCache.delete(oldest);
    }
    this.projCache.set(key, { tensor: tf.keep(t), weightsId });
  }

  /** Drop cached projections (they are also invalidated automatically when the weights change). */
  clearCache(): void {
    for (const e of this.projCache.values()) e.tensor.dispose();
    this.projCache.clear();
  }

  /**
   * Forward pass. Call inside tf.tidy (or a gradient function). `useCache` reuses per-image
   * projections; leave it off inside gradient computations.
   */
  forward(batch: PromptObservationBatch, opts: { useCache?: boolean } = {}): NetOutput {
    const c = this.config;
    const b = batch.size;
    const g = c.gridSize;
    if (batch.embeddings.length !== b)
      throw new Error(`PromptNet: batch has ${batch.embeddings.length} embeddings for size ${b}`);
    const [he, we, ce] = embeddingShape(batch.embeddings[0], 'PromptNet');
    if (ce !== c.embedChannels)
      throw new Error(`PromptNet: embedding has ${ce} channels, network expects ${c.embedChannels}`);
    if (batch.maskProbs.length !== b * he * we) {
      throw new Error(`PromptNet: maskProbs has ${batch.maskProbs.length} values, expected B*He*We = ${b * he * we}`);
    }

    // Unique images in this batch, and which one each sample uses.
    const uniqueIndex = new Map<string, number>();
    const uniqueRefs: EmbeddingRef[] = [];
    const sampleToUnique = new Int32Array(b);
    batch.embeddings.forEach((ref, i) => {
      let u = uniqueIndex.get(ref.key);
      if (u === undefined) {
        const [h2, w2] = embeddingShape(ref, 'PromptNet');
        if (h2 !== he || w2 !== we)
          throw new Error(
            `PromptNet: embeddings in one batch must share a grid; '${ref.key}' is ${h2}x${w2}, not ${he}x${we}`,
          );
        u = uniqueRefs.length;
        uniqueIndex.set(ref.key, u);
        uniqueRefs.push(ref);
      }
      sampleToUnique[i] = u;
    });
    const mask = tf.tensor4d(batch.maskProbs, [b, he, we, 1]);

    // The AlignSAM state proj(E) * m per sample, average-pooled by k before the first conv, in one
    // op (see gatherScalePool): k = 2^n halvings while the side stays >= embedConvMinSize.
    const minSide = c.embedConvMinSize ?? Math.ceil(1.5 * g);
    let h = he;
    let w = we;
    let poolK = 1;
    if (c.embedConvChannels.length > 0) {
      while (Math.floor(h / 2) >= minSide && Math.floor(w / 2) >= minSide) {
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
        poolK *= 2;
      }
    }
    // Inference reuses per-image projections; training fuses projection, gathering, gating and
    // pooling into one op whose gradient is for the projection weights only.
    let x = opts.useCache
      ? gatherScalePool(this.projectUnique(uniqueRefs, true), sampleToUnique, mask, poolK)
      : projectGatherScalePool(
          uniqueRefs.map((r) => r.tensor),
          this.params.get('proj/w'),
          sampleToUnique,
          mask,
          poolK,
        );
    c.embedConvChannels.forEach((_, i) => {
      while (Math.floor(h / 2) >= minSide && Math.floor(w / 2) >= minSide) {
        x = tf.avgPool(x, 2, 2, 'valid') as tf.Tensor4D;
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      }
      x = tf.relu(
        tf.add(conv2d(x, this.params.get(`embed${i}/w`) as tf.Tensor4D, 'same'), this.params.get(`embed${i}/b`)),
      ) as tf.Tensor4D;
    });
    x = this.pool.pool(x, g, g);

    const maskGrid = this.pool.pool(mask, g, g);
    const pos = tf.tensor4d(batch.clicksPositive, [b, g, g, 1]);
    const neg = tf.tensor4d(batch.clicksNegative, [b, g, g, 1]);
    const step = tf.mul(tf.ones([b, g, g, 1]), tf.tensor4d(batch.stepFraction, [b, 1, 1, 1]));
    const gridInputs: tf.Tensor[] = [x, maskGrid, pos, neg, step];
    if (c.labelerScores) {
      if (!batch.labelerScores)
        throw new Error('PromptNet: this network reads the labeler scores but the batch has none');
      gridInputs.push(tf.tensor4d(batch.labelerScores, [b, g, g, 1]));
    }
    x = tf.concat(gridInputs, 3) as tf.Tensor4D;

    c.gridConvChannels.forEach((out, i) => {
      let y = tf.add(
        conv2d(x, this.params.get(`grid${i}/w`) as tf.Tensor4D, 'same'),
        this.params.get(`grid${i}/b`),
      ) as tf.Tensor4D;
      if (i === 0 && c.textDim > 0) {
        if (!batch.textVector)
          throw new Error('PromptNet: this network is text-conditioned but the batch has no textVector');
        const film = tf.add(
          matMul2d(tf.tensor2d(batch.textVector, [b, c.textDim]), this.params.get('film/w')),
          this.params.get('film/b'),
        );
        const gamma = tf.reshape(tf.slice(film, [0, 0], [b, out]), [b, 1, 1, out]);
        const beta = tf.reshape(tf.slice(film, [0, out], [b, out]), [b, 1, 1, out]);
        y = tf.add(tf.mul(y, tf.add(gamma, 1)), beta);
      }
      x = tf.relu(y) as tf.Tensor4D;
    });
    const chOut = c.gridConvChannels[c.gridConvChannels.length - 1];
    const k = c.logitsPerCell;
    const flat = tf.reshape(x, [b * g * g, chOut]);
    const headName = c.head === 'actor-critic' ? 'pi' : 'q';
    let cells = tf.add(matMul2d(flat, this.params.get(`${headName}/w`)), this.params.get(`${headName}/b`));
    let logits: tf.Tensor2D;
    if (k === 1 || c.actionLayout === 'cell-major') {
      logits = tf.reshape(cells, [b, g * g * k]);
    } else {
      cells = tf.reshape(cells, [b, g * g, k]);
      logits = tf.reshape(tf.transpose(cells, [0, 2, 1]), [b, k * g * g]);
    }
    let values: tf.Tensor1D | null = null;
    if (c.head === 'actor-critic') {
      const pooled = tf.mean(x, [1, 2]);
      const hid = tf.relu(tf.add(matMul2d(pooled, this.params.get('v0/w')), this.params.get('v0/b')));
      values = tf.reshape(tf.add(matMul2d(hid, this.params.get('v1/w')), this.params.get('v1/b')), [b]);
    }
    return { logits, values };
  }

  dispose(): void {
    this.clearCache();
    this.pool.dispose();
    this.params.dispose();
  }
}
