/**
 * One SAM training step on one image (Kirillov et al. 2023, §A, scaled down): encode the image
 * once (the encoder is trained), then run `iterations` rounds of prompting. Round 0 prompts a
 * random foreground point (three masks, the loss on the lowest-loss one) or, with probability
 * `boxProb`, a noisy box (one mask); each later round adds a corrective click from the error region
 * of the previous prediction and feeds that prediction's low-res logits back as the mask input (as
 * a constant: no gradient flows through the previous round). Loss per round: 20 focal + 1 Dice on
 * the low-res logits against the ground truth pooled to the low-res frame, plus the MSE of the IoU
 * head against each mask's actual IoU; the step's loss is the mean over rounds.
 */
import * as tf from '@tensorflow/tfjs';
import { SamConfig, lowResMaskSize } from '../sam/config';
import { ImageEmbedding } from '../sam/image-embedding';
import type { ModelPrompt } from '../sam/prompt-encoder';
import { SamModel } from '../sam/sam-model';
import { normalizeAndPad } from '../sam/transforms';
import type { RgbImage } from '../data/types';
import type { Rng } from '../utils/rng';
import { correctiveClick, downsampleMask, jitterBox, maskBox, randomForegroundClick } from './click-sampling';
import { IOU_WEIGHT, maskIous, maskLoss } from './losses';
import type { NamedAdam } from './named-adam';

export interface TrainStepOptions {
  /** Prompting rounds per image (1 + corrective clicks). */
  iterations: number;
  /** Probability that round 0 is a box rather than a point. */
  boxProb: number;
  /** Probability that a corrective click is the oracle's rather than a random error pixel. */
  oracleProb: number;
  learningRate: number;
  /** Global gradient-norm clip (0 = none). */
  clipNorm: number;
  /**
   * Focal loss alpha (weight of foreground pixels; SAM's 0.25 by default). With one image per
   * step, 0.25 let the micro-SAM collapse to empty masks early on; 0.5 weighs both classes alike.
   */
  focalAlpha?: number;
}

export interface TrainStepResult {
  loss: number;
  /** IoU (low-res frame) of the kept mask after each round. */
  roundIous: number[];
  gradNorm: number;
}

/** The encoder input for an image already of the model's input size (no resize, no padding). */
export function encoderInput(config: SamConfig, image: RgbImage): tf.Tensor3D {
  const s = config.imageEncoder.imgSize;
  if (image.width !== s || image.height !== s) throw new Error(`train step: image is ${image.width}x${image.height}, the model's input is ${s}x${s}`);
  return tf.tensor3d(normalizeAndPad(image.data, { height: s, width: s }, s, config.pixelMean, config.pixelStd), [s, s, 3]);
}

export function trainStep(
  config: SamConfig,
  vars: Map<string, tf.Variable>,
  optimizer: NamedAdam,
  image: RgbImage,
  gtMask: Uint8Array,
  rng: Rng,
  opts: TrainStepOptions,
): TrainStepResult {
  const s = config.imageEncoder.imgSize;
  const low = lowResMaskSize(config);
  const factor = s / low;
  const gtLow = downsampleMask(gtMask, s, s, factor);
  if (!gtLow.some((v) => v)) throw new Error('train step: the ground truth is empty at the low-res frame');
  const toInput = (c: { x: number; y: number }) => [(c.x + 0.5) * factor, (c.y + 0.5) * factor];
  const roundIous: number[] = [];
  let model: SamModel | null = null;
  let embedding: ImageEmbedding | null = null;
  const input = encoderInput(config, image);
  const gtT = tf.tensor2d(Float32Array.from(gtLow), [low, low]);
  const trainable = [...vars.values()].filter((v) => v.trainable);
  try {
    const f = (): tf.Scalar => {
      model = SamModel.fromVariables(config, vars);
      const emb = model.encodeImage(input);
      embedding = new ImageEmbedding('training', emb, { height: s, width: s }, { height: s, width: s });
      const pointsXY: number[] = [];
      const labels: number[] = [];
      let box: number[] | undefined;
      let maskInput: tf.Tensor2D | null = null;
      let prevPred: Uint8Array | null = null;
      const losses: tf.Scalar[] = [];
      for (let round = 0; round < opts.iterations; round++) {
        if (round === 0) {
          if (rng.random() < opts.boxProb) {
            const b = jitterBox(maskBox(gtMask, s, s)!, s, s, rng);
            box = b;
          } else {
            const c = randomForegroundClick(gtLow, low, rng);
            pointsXY.push(...toInput(c));
            labels.push(1);
          }
        } else {
          const c = correctiveClick(gtLow, prevPred!, low, low, rng, opts.oracleProb);
          pointsXY.push(...toInput(c));
          labels.push(c.label);
        }
        const prompt: ModelPrompt = {};
        if (labels.length) {
          prompt.pointsXY = pointsXY.slice();
          prompt.pointLabels = labels.slice();
        }
        if (box) prompt.boxXYXY = box;
        const multimask = round === 0 && !box;
        const [out] = model.decode([{ embedding, prompt, maskInput, multimaskOutput: multimask }]);
        const m = out.lowResLogits.shape[0];
        const perMask = maskLoss(out.lowResLogits, gtT, opts.focalAlpha);
        const perMaskData = perMask.dataSync();
        let best = 0;
        for (let i = 1; i < m; i++) if (perMaskData[i] < perMaskData[best]) best = i;
        const logits = out.lowResLogits.dataSync() as Float32Array;
        const ious = maskIous(logits, m, gtLow);
        const pick = tf.tensor1d(Array.from({ length: m }, (_, i) => (i === best ? 1 : 0)));
        const iouTarget = tf.tensor1d(ious);
        const iouLoss = tf.mean(tf.square(tf.sub(out.iouPredictions, iouTarget)));
        losses.push(tf.add(tf.sum(tf.mul(perMask, pick)), tf.mul(iouLoss, IOU_WEIGHT)) as tf.Scalar);
        roundIous.push(ious[best]);
        // The next round sees this prediction as a constant, as in SAM's training loop.
        const bestLogits = logits.slice(best * low * low, (best + 1) * low * low);
        maskInput = tf.tensor2d(bestLogits, [low, low]);
        prevPred = new Uint8Array(low * low);
        for (let i = 0; i < bestLogits.length; i++) prevPred[i] = bestLogits[i] > 0 ? 1 : 0;
      }
      return tf.div(tf.addN(losses), losses.length) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(f, trainable);
    const loss = value.dataSync()[0];
    value.dispose();
    const named = new Map<string, tf.Tensor>();
    for (const [tfName, g] of Object.entries(grads)) named.set(tfName.replace(/^sam\//, ''), g);
    let gradNorm = 0;
    tf.tidy(() => {
      const norm = tf.sqrt(tf.addN([...named.values()].map((g) => tf.sum(tf.square(g)))));
      gradNorm = norm.dataSync()[0];
      const scale = opts.clipNorm > 0 && gradNorm > opts.clipNorm ? opts.clipNorm / (gradNorm + 1e-6) : 1;
      const scaled = new Map<string, tf.Tensor>();
      for (const [k, g] of named) scaled.set(k, scale === 1 ? g : tf.mul(g, scale));
      if (!Number.isFinite(gradNorm)) throw new Error(`train step: gradient norm is ${gradNorm}`);
      optimizer.apply(scaled, opts.learningRate);
    });
    for (const g of named.values()) g.dispose();
    return { loss, roundIous, gradNorm };
  } finally {
    (embedding as ImageEmbedding | null)?.dispose();
    (model as SamModel | null)?.dispose();
    input.dispose();
    gtT.dispose();
  }
}
