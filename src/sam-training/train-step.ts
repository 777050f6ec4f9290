/**
 * One SAM training step (Kirillov et al. 2023, §A, scaled down) on a small batch of images: each
 * image is encoded once (the encoder is trained) and its embedding serves `promptSets` independent
 * prompt chains, decoded together in one `decode` call per round, so the encoder's cost is shared.
 * Round 0 of a chain prompts a random foreground point (three masks, the loss on the lowest-loss
 * one) or, with probability `boxProb`, a noisy box (one mask); each later round adds a corrective
 * click from the error region of the chain's previous prediction and feeds that prediction's
 * low-res logits back as the mask input (as a constant: no gradient flows through the previous
 * round). Loss per decoded prompt set: focal + Dice on the low-res logits against the ground truth
 * pooled to the low-res frame, plus the MSE of the IoU head against each mask's actual IoU; the
 * step's loss is the mean over all decoded prompt sets.
 */
import * as tf from '@tensorflow/tfjs';
import { SamConfig, lowResMaskSize } from '../sam/config';
import { ImageEmbedding } from '../sam/image-embedding';
import type { DecodeRequest } from '../sam/modeling/sam-model';
import type { ModelPrompt } from '../sam/modeling/prompt-encoder';
import { SamModel } from '../sam/modeling/sam-model';
import { normalizeAndPad, resizeImageLongestSide } from '../sam/processing/transforms';
import type { RgbImage } from '../data/types';
import type { Rng } from '../utils/rng';
import { correctiveClick, downsampleMask, jitterBox, maskBox, randomForegroundClick } from './click-sampling';
import { DICE_WEIGHT, FOCAL_WEIGHT, IOU_WEIGHT, maskIous, maskLoss } from './losses';
import type { Adam } from '../nn/adam';

export interface TrainStepOptions {
  /** Prompting rounds per chain (1 + corrective clicks). */
  iterations: number;
  /** Independent prompt chains per image, decoded together (default 1). */
  promptSets?: number;
  /** Probability that round 0 is a box rather than a point. */
  boxProb: number;
  /** Probability that a corrective click is the oracle's rather than a random error pixel. */
  oracleProb: number;
  learningRate: number;
  /** Global gradient-norm clip (0 = none). */
  clipNorm: number;
  /** Focal loss alpha (weight of foreground pixels; SAM's 0.25 by default). */
  focalAlpha?: number;
  /** Weights of the focal and Dice terms (SAM: 20 and 1). */
  focalWeight?: number;
  diceWeight?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Mean IoU (low-res frame) of the kept mask after each round, over images and chains. */
  roundIous: number[];
  gradNorm: number;
}

/** An image prepared for training: the encoder input pixels and the ground truth in its frames. */
export interface TrainSample {
  /** Encoder input, normalised and padded, [S, S, 3] flattened (HWC). */
  input: Float32Array;
  /** Ground truth pooled to the low-res mask frame, [L * L]. */
  gtLow: Uint8Array;
  /** The ground truth's tight box in the encoder input frame. */
  boxXYXY: [number, number, number, number];
}

/**
 * Resize a square image (longest side to the encoder size, as the predictor does) and pool its
 * mask to the low-res frame. Throws when the image is not square, its side is not a multiple of
 * the low-res size, or the target vanishes at the low-res frame.
 */
export function prepareTrainSample(config: SamConfig, image: RgbImage, mask: Uint8Array): TrainSample {
  const s = config.imageEncoder.imgSize;
  const low = lowResMaskSize(config);
  if (image.width !== image.height)
    throw new Error(`prepareTrainSample: image is ${image.width}x${image.height}, training needs square images`);
  if (image.width % low !== 0)
    throw new Error(`prepareTrainSample: image side ${image.width} is not a multiple of the low-res size ${low}`);
  if (mask.length !== image.width * image.height)
    throw new Error(`prepareTrainSample: mask has ${mask.length} pixels for a ${image.width}x${image.height} image`);
  const pixels =
    image.width === s
      ? image.data
      : resizeImageLongestSide(image.data, { height: image.height, width: image.width }, s).pixels;
  const input = normalizeAndPad(pixels, { height: s, width: s }, s, config.pixelMean, config.pixelStd);
  const gtLow = downsampleMask(mask, image.width, image.height, image.width / low);
  if (!gtLow.some((v) => v)) throw new Error('prepareTrainSample: the ground truth is empty at the low-res frame');
  const box = maskBox(mask, image.width, image.height)!;
  const k = s / image.width;
  return { input, gtLow, boxXYXY: [box[0] * k, box[1] * k, box[2] * k, box[3] * k] };
}

interface Chain {
  pointsXY: number[];
  labels: number[];
  box?: number[];
  maskInput: tf.Tensor2D | null;
  prevPred: Uint8Array | null;
}

export function trainStep(
  config: SamConfig,
  vars: Map<string, tf.Variable>,
  optimizer: Adam,
  samples: TrainSample[],
  rng: Rng,
  opts: TrainStepOptions,
): TrainStepResult {
  if (samples.length === 0) throw new Error('trainStep: no samples');
  const s = config.imageEncoder.imgSize;
  const low = lowResMaskSize(config);
  const factor = s / low;
  const sets = opts.promptSets ?? 1;
  const toInput = (c: { x: number; y: number }) => [(c.x + 0.5) * factor, (c.y + 0.5) * factor];
  const roundIouSums = new Array<number>(opts.iterations).fill(0);
  const focalW = opts.focalWeight ?? FOCAL_WEIGHT;
  const diceW = opts.diceWeight ?? DICE_WEIGHT;
  let model: SamModel | null = null;
  const embeddings: ImageEmbedding[] = [];
  const constants: tf.Tensor[] = [];
  const inputs = samples.map((smp) => tf.tensor3d(smp.input, [s, s, 3]));
  const gts = samples.map((smp) => tf.tensor2d(Float32Array.from(smp.gtLow), [low, low]));
  const trainable = [...vars.values()].filter((v) => v.trainable);
  try {
    const f = (): tf.Scalar => {
      model = SamModel.fromVariables(config, vars);
      for (const input of inputs)
        embeddings.push(
          new ImageEmbedding('training', model.encodeImage(input), { height: s, width: s }, { height: s, width: s }),
        );
      const chains: Chain[][] = samples.map(() =>
        Array.from({ length: sets }, () => ({ pointsXY: [], labels: [], maskInput: null, prevPred: null })),
      );
      const losses: tf.Scalar[] = [];
      for (let round = 0; round < opts.iterations; round++) {
        const requests: DecodeRequest[] = [];
        const owner: Array<[number, number]> = [];
        samples.forEach((smp, i) => {
          for (let j = 0; j < sets; j++) {
            const ch = chains[i][j];
            if (round === 0) {
              if (rng.random() < opts.boxProb) ch.box = jitterBox(smp.boxXYXY, s, s, rng);
              else {
                ch.pointsXY.push(...toInput(randomForegroundClick(smp.gtLow, low, rng)));
                ch.labels.push(1);
              }
            } else {
              const c = correctiveClick(smp.gtLow, ch.prevPred!, low, low, rng, opts.oracleProb);
              ch.pointsXY.push(...toInput(c));
              ch.labels.push(c.label);
            }
            const prompt: ModelPrompt = {};
            if (ch.labels.length) {
              prompt.pointsXY = ch.pointsXY.slice();
              prompt.pointLabels = ch.labels.slice();
            }
            if (ch.box) prompt.boxXYXY = ch.box;
            requests.push({
              embedding: embeddings[i],
              prompt,
              maskInput: ch.maskInput,
              multimaskOutput: round === 0 && !ch.box,
            });
            owner.push([i, j]);
          }
        });
        const outs = model.decode(requests);
        outs.forEach((out, r) => {
          const [i, j] = owner[r];
          const ch = chains[i][j];
          const m = out.lowResLogits.shape[0];
          const perMask = maskLoss(out.lowResLogits, gts[i], opts.focalAlpha, focalW, diceW);
          const perMaskData = perMask.dataSync();
          let best = 0;
          for (let k = 1; k < m; k++) if (perMaskData[k] < perMaskData[best]) best = k;
          const logits = out.lowResLogits.dataSync() as Float32Array;
          const ious = maskIous(logits, m, samples[i].gtLow);
          const pick = tf.tensor1d(Array.from({ length: m }, (_, k) => (k === best ? 1 : 0)));
          const iouLoss = tf.mean(tf.square(tf.sub(out.iouPredictions, tf.tensor1d(ious))));
          losses.push(tf.add(tf.sum(tf.mul(perMask, pick)), tf.mul(iouLoss, IOU_WEIGHT)) as tf.Scalar);
          roundIouSums[round] += ious[best];
          // The next round sees this prediction as a constant, as in SAM's training loop.
          const bestLogits = logits.slice(best * low * low, (best + 1) * low * low);
          ch.maskInput = tf.keep(tf.tensor2d(bestLogits, [low, low]));
          constants.push(ch.maskInput);
          ch.prevPred = new Uint8Array(low * low);
          for (let k = 0; k < bestLogits.length; k++) ch.prevPred[k] = bestLogits[k] > 0 ? 1 : 0;
        });
      }
      return tf.div(tf.addN(losses), losses.length) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(f, trainable);
    const loss = value.dataSync()[0];
    value.dispose();
    const named = new Map<string, tf.Tensor>();
    for (const [tfName, g] of Object.entries(grads)) named.set(tfName.replace(/^[^/]*\//, ''), g);
    let gradNorm = 0;
    tf.tidy(() => {
      const norm = tf.sqrt(tf.addN([...named.values()].map((g) => tf.sum(tf.square(g)))));
      gradNorm = norm.dataSync()[0];
      if (!Number.isFinite(gradNorm)) throw new Error(`train step: gradient norm is ${gradNorm}`);
      const scale = opts.clipNorm > 0 && gradNorm > opts.clipNorm ? opts.clipNorm / (gradNorm + 1e-6) : 1;
      const scaled = new Map<string, tf.Tensor>();
      for (const [k, g] of named) scaled.set(k, scale === 1 ? g : tf.mul(g, scale));
      optimizer.apply(scaled, opts.learningRate);
    });
    for (const g of named.values()) g.dispose();
    const n = samples.length * sets;
    return { loss, roundIous: roundIouSums.map((v) => v / n), gradNorm };
  } finally {
    for (const e of embeddings) e.dispose();
    (model as SamModel | null)?.dispose();
    for (const t of [...inputs, ...gts, ...constants]) t.dispose();
  }
}
