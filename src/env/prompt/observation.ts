/**
 * What the prompting env shows an agent: AlignSAM's state s_t = E_I(x) * M_{t-1}, given as a
 * reference to the cached embedding plus the previous mask's probabilities on the embedding grid
 * (so the 4 MiB embedding is never copied), the clicks so far on the action grid, the step
 * fraction, the target's text vector when the task has a name, and the action mask.
 */
import type * as tf from '@tensorflow/tfjs';
import { Box } from '../spaces/box';
import { CustomSpace } from '../spaces/custom';
import { Space } from '../spaces/space';

export interface EmbeddingRef {
  /** Content key of the embedding (weights, image, input size): equal keys mean equal tensors. */
  readonly key: string;
  /** [E, E, D] channels-last; owned by the embedding cache, never disposed by consumers. */
  readonly tensor: tf.Tensor;
}

export interface PromptObservation {
  embedding: EmbeddingRef;
  /** M_{t-1} on the embedding grid, [E*E] in [0, 1]; all ones before the first mask. */
  maskProbs: Float32Array;
  /** 1 where a positive click was made, [G*G]. */
  clicksPositive: Float32Array;
  /** 1 where a negative click was made, [G*G]. */
  clicksNegative: Float32Array;
  /** t / T. */
  stepFraction: number;
  /** The target name's vector [D], or undefined for tasks without a name. */
  textVector?: Float32Array;
  /**
   * The labeler's (SRM's) foreground score of every cell, [G*G] in [0, 1], computed when the
   * episode starts; present when the env observes its labeler (`observeLabeler`).
   */
  labelerScores?: Float32Array;
  /** 1 where the action is allowed, [numActions]. */
  actionMask: Uint8Array;
}

export interface PromptObservationDims {
  embeddingGrid: number;
  embeddingChannels: number;
  gridSize: number;
  numActions: number;
  textDim: number;
  /** Whether observations carry `labelerScores`. */
  labelerScores?: boolean;
}

function inUnit(a: unknown, n: number): boolean {
  if (!(a instanceof Float32Array) || a.length !== n) return false;
  for (let i = 0; i < n; i++) if (!(a[i] >= 0 && a[i] <= 1)) return false;
  return true;
}

/** The observation space: checks shapes and ranges of every field. */
export function promptObservationSpace(d: PromptObservationDims): Space<PromptObservation> {
  const e2 = d.embeddingGrid * d.embeddingGrid;
  const g2 = d.gridSize * d.gridSize;
  const maskSpace = new Box(0, 1, [e2]);
  const cellSpace = new Box(0, 1, [g2]);
  return new CustomSpace<PromptObservation>({
    name: 'PromptObservation',
    shape: [],
    contains: (x: unknown): x is PromptObservation => {
      if (!x || typeof x !== 'object') return false;
      const o = x as PromptObservation;
      const emb = o.embedding;
      const s = emb?.tensor?.shape;
      if (
        !emb ||
        typeof emb.key !== 'string' ||
        !s ||
        s.length !== 3 ||
        s[0] !== d.embeddingGrid ||
        s[1] !== d.embeddingGrid ||
        s[2] !== d.embeddingChannels
      )
        return false;
      if (!inUnit(o.maskProbs, e2) || !inUnit(o.clicksPositive, g2) || !inUnit(o.clicksNegative, g2)) return false;
      if (!(o.stepFraction >= 0 && o.stepFraction <= 1)) return false;
      if (d.textDim > 0 && !(o.textVector instanceof Float32Array && o.textVector.length === d.textDim)) return false;
      if (d.labelerScores && !inUnit(o.labelerScores, g2)) return false;
      if (!(o.actionMask instanceof Uint8Array) || o.actionMask.length !== d.numActions) return false;
      return true;
    },
    // A sample has the right shapes but names no real embedding (its tensor is null).
    sample: (rng) => ({
      embedding: { key: `sample:${rng.nextUint32().toString(16)}`, tensor: null as unknown as tf.Tensor },
      maskProbs: maskSpace.sample() as Float32Array,
      clicksPositive: cellSpace.sample() as Float32Array,
      clicksNegative: cellSpace.sample() as Float32Array,
      stepFraction: rng.random(),
      textVector: d.textDim > 0 ? Float32Array.from({ length: d.textDim }, () => rng.normal()) : undefined,
      labelerScores: d.labelerScores ? (cellSpace.sample() as Float32Array) : undefined,
      actionMask: Uint8Array.from({ length: d.numActions }, () => 1),
    }),
  });
}
