/**
 * Interactive evaluation of a SAM with the oracle clicker: on each scene, click k is
 * `nextOracleClick` on the full-size prediction after k - 1 clicks (the first on an empty mask),
 * all clicks so far are prompted together with the previous low-res logits as mask input; click 1
 * asks for three masks and keeps the one with the highest predicted IoU (SAM's ambiguity rule),
 * later clicks ask for one. Reports mIoU after each click.
 */
import * as tf from '@tensorflow/tfjs';
import { nextOracleClick } from '../baselines/oracle-click';
import type { SegmentationDataset } from '../data/types';
import { iou } from '../metrics/segmentation';
import { SamPredictor, disposePrediction } from '../sam/predictor';
import type { SamModel } from '../sam/modeling/sam-model';

export interface OracleEvalResult {
  scenes: number;
  maxClicks: number;
  /** mIoU after k clicks at index k - 1. */
  miouAtClick: number[];
  /** Per-scene IoU curves. */
  curves: number[][];
}

export async function oracleClickEval(
  model: SamModel,
  dataset: SegmentationDataset,
  scenes: number,
  maxClicks: number,
): Promise<OracleEvalResult> {
  if (!(Number.isInteger(scenes) && scenes >= 1 && scenes <= dataset.length))
    throw new Error(`oracleClickEval: scenes must be in [1, ${dataset.length}], got ${scenes}`);
  const predictor = new SamPredictor(model);
  const curves: number[][] = [];
  try {
    for (let i = 0; i < scenes; i++) {
      const sample = await dataset.get(i);
      await predictor.setImage(sample.image);
      const { width, height } = sample;
      let pred = new Uint8Array(width * height);
      const pointsXY: number[] = [];
      const labels: number[] = [];
      let maskInput: tf.Tensor2D | null = null;
      const curve: number[] = [];
      for (let k = 0; k < maxClicks; k++) {
        const click = nextOracleClick(sample.mask, pred, height, width);
        if (!click) {
          curve.push(curve.length ? curve[curve.length - 1] : 1);
          continue;
        }
        pointsXY.push(click.x + 0.5, click.y + 0.5);
        labels.push(click.label);
        const p = predictor.predict({
          pointCoords: pointsXY,
          pointLabels: labels,
          maskInput,
          multimaskOutput: k === 0,
        });
        const scores = p.iouPredictions.dataSync();
        let best = 0;
        for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j;
        const masks = p.masks!.dataSync();
        const n = width * height;
        pred = Uint8Array.from(masks.subarray(best * n, (best + 1) * n));
        maskInput?.dispose();
        maskInput = tf.tidy(() => p.lowResLogits.slice([best, 0, 0], [1, -1, -1]).squeeze([0]) as tf.Tensor2D);
        disposePrediction(p);
        curve.push(iou(pred, sample.mask));
      }
      maskInput?.dispose();
      curves.push(curve);
    }
  } finally {
    predictor.resetImage();
  }
  const miouAtClick = Array.from({ length: maxClicks }, (_, k) => curves.reduce((s, c) => s + c[k], 0) / curves.length);
  return { scenes, maxClicks, miouAtClick, curves };
}
