/**
 * The prompting env's observations (env/prompt/observation.ts) as the agents read them: checked
 * against the policy's sizes, stacked into batches, and snapshotted.
 *
 * The image embedding is never copied: an observation carries an `EmbeddingRef` (a key naming the
 * image and the tensor itself, shared by every step of the episode). Buffers store the key and hold
 * the tensor through an `EmbeddingStore`; everything else in an observation is small and copied.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingRef, PromptObservation } from '../env/prompt/observation';

/** B observations, the small fields stacked; embeddings stay references. */
export interface PromptObservationBatch {
  size: number;
  embeddings: EmbeddingRef[];
  /** [B * He * We] */
  maskProbs: Float32Array;
  /** [B * G * G] */
  clicksPositive: Float32Array;
  /** [B * G * G] */
  clicksNegative: Float32Array;
  /** [B] */
  stepFraction: Float32Array;
  /** [B * D], or null when the task has no text. */
  textVector: Float32Array | null;
  /** [B * G * G], or null when the policy does not read the labeler's scores. */
  labelerScores: Float32Array | null;
  /** [B * nActions] */
  actionMask: Uint8Array;
}

/** Grid sizes an observation must agree with. */
export interface ObservationDims {
  embedH: number;
  embedW: number;
  embedChannels: number;
  gridSize: number;
  nActions: number;
  /** 0 when the policy takes no text. */
  textDim: number;
  /** Whether the policy reads the labeler's cell scores. */
  labelerScores?: boolean;
}

/** The [He, We, C] of an embedding tensor, checking its rank. */
export function embeddingShape(ref: EmbeddingRef, where: string): [number, number, number] {
  const s = ref.tensor.shape;
  if (s.length === 3) return [s[0], s[1], s[2]];
  if (s.length === 4 && s[0] === 1) return [s[1], s[2], s[3]];
  throw new Error(`${where}: embedding '${ref.key}' must be [He, We, C] or [1, He, We, C], got [${s}]`);
}

function checkLength(name: string, arr: ArrayLike<number> | undefined, n: number, where: string): void {
  if (arr === undefined || arr === null || typeof arr.length !== 'number') {
    throw new Error(`${where}: field '${name}' is missing`);
  }
  if (arr.length !== n) throw new Error(`${where}: field '${name}' has length ${arr.length}, expected ${n}`);
}

/** Throws a clear error naming the field when `obs` does not fit `dims`. */
export function validateObservation(obs: PromptObservation, dims: ObservationDims, where = 'observation'): void {
  if (obs === null || typeof obs !== 'object') throw new Error(`${where}: expected an object`);
  if (!obs.embedding || typeof obs.embedding.key !== 'string' || !(obs.embedding.tensor instanceof tf.Tensor)) {
    throw new Error(`${where}: field 'embedding' must be {key: string, tensor: tf.Tensor}`);
  }
  if (obs.embedding.tensor.isDisposed) throw new Error(`${where}: embedding '${obs.embedding.key}' is disposed`);
  const [h, w, c] = embeddingShape(obs.embedding, where);
  if (h !== dims.embedH || w !== dims.embedW || c !== dims.embedChannels) {
    throw new Error(
      `${where}: embedding '${obs.embedding.key}' is [${h}, ${w}, ${c}], expected [${dims.embedH}, ${dims.embedW}, ${dims.embedChannels}]`,
    );
  }
  const gg = dims.gridSize * dims.gridSize;
  checkLength('maskProbs', obs.maskProbs, h * w, where);
  checkLength('clicksPositive', obs.clicksPositive, gg, where);
  checkLength('clicksNegative', obs.clicksNegative, gg, where);
  checkLength('actionMask', obs.actionMask, dims.nActions, where);
  const s = obs.stepFraction;
  if (!Number.isFinite(s)) throw new Error(`${where}: field 'stepFraction' must be a finite number, got ${s}`);
  if (dims.textDim > 0) checkLength('textVector', obs.textVector, dims.textDim, where);
  if (dims.labelerScores) checkLength('labelerScores', obs.labelerScores, gg, where);
}

/** Stack observations into a batch (copies the small fields, references the embeddings). */
export function batchObservations(
  observations: readonly PromptObservation[],
  dims: ObservationDims,
): PromptObservationBatch {
  const b = observations.length;
  if (b === 0) throw new Error('batchObservations: no observations');
  const hw = dims.embedH * dims.embedW;
  const gg = dims.gridSize * dims.gridSize;
  const batch: PromptObservationBatch = {
    size: b,
    embeddings: new Array(b),
    maskProbs: new Float32Array(b * hw),
    clicksPositive: new Float32Array(b * gg),
    clicksNegative: new Float32Array(b * gg),
    stepFraction: new Float32Array(b),
    textVector: dims.textDim > 0 ? new Float32Array(b * dims.textDim) : null,
    labelerScores: dims.labelerScores ? new Float32Array(b * gg) : null,
    actionMask: new Uint8Array(b * dims.nActions),
  };
  for (let i = 0; i < b; i++) {
    const o = observations[i];
    validateObservation(o, dims, `observation ${i}`);
    batch.embeddings[i] = o.embedding;
    batch.maskProbs.set(o.maskProbs, i * hw);
    batch.clicksPositive.set(o.clicksPositive, i * gg);
    batch.clicksNegative.set(o.clicksNegative, i * gg);
    batch.stepFraction[i] = o.stepFraction;
    if (batch.textVector) batch.textVector.set(o.textVector as ArrayLike<number>, i * dims.textDim);
    if (batch.labelerScores) batch.labelerScores.set(o.labelerScores as ArrayLike<number>, i * gg);
    for (let a = 0; a < dims.nActions; a++) batch.actionMask[i * dims.nActions + a] = o.actionMask[a] ? 1 : 0;
  }
  return batch;
}

/**
 * A copy of the small fields (the embedding stays a reference), so that an observation held across
 * env steps cannot change if the env reuses its arrays.
 */
export function snapshotObservation(obs: PromptObservation): PromptObservation {
  if (obs === null || typeof obs !== 'object') throw new Error('observation: expected an object');
  const copy = (name: string, a: ArrayLike<number> | undefined): Float32Array => {
    if (a === undefined || a === null || typeof a.length !== 'number')
      throw new Error(`observation: field '${name}' is missing`);
    return Float32Array.from(a);
  };
  const out: PromptObservation = {
    embedding: obs.embedding,
    maskProbs: copy('maskProbs', obs.maskProbs),
    clicksPositive: copy('clicksPositive', obs.clicksPositive),
    clicksNegative: copy('clicksNegative', obs.clicksNegative),
    stepFraction: obs.stepFraction,
    actionMask: Uint8Array.from(copy('actionMask', obs.actionMask), (v) => (v ? 1 : 0)),
  };
  if (obs.textVector !== undefined) out.textVector = copy('textVector', obs.textVector);
  if (obs.labelerScores !== undefined) out.labelerScores = copy('labelerScores', obs.labelerScores);
  return out;
}
