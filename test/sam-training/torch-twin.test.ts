/**
 * The micro-SAM is trained on a GPU by a PyTorch twin of src/sam (scripts/micro-sam-torch). This
 * test holds the twin to the tfjs model: test/fixtures/torch-twin was written by
 * `check_twin.py` (seeded random weights, an image shorter than the input so padding is used,
 * windowed attention with a padded window, point, box and mask prompts, both multimask settings).
 * Loading the twin's state dict with `loadSam` and running the same prompts must give the twin's
 * embedding, low-res logits and IoU predictions within the parity tolerance of the SAM port.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { readSafetensors } from '../../src/io/safetensors';
import type { TensorData } from '../../src/io/tensor-record';
import { loadSam } from '../../src/sam/pretrained';
import { encodeImage } from '../../src/sam/image-encoding';
import type { ModelPrompt } from '../../src/sam/modeling/prompt-encoder';
import type { SamModel } from '../../src/sam/modeling/sam-model';

const DIR = path.join(__dirname, '..', 'fixtures', 'torch-twin');

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  const tol = 1e-3 * maxAbs(expected) + 1e-5;
  if (!(diff <= tol)) throw new Error(`${name}: max |tfjs - torch| = ${diff} > ${tol}`);
}

let model: SamModel;
let cases: Map<string, { shape: number[]; data: TensorData }>;
let caseCount: number;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadSam(path.join(DIR, 'weights.safetensors'));
  const contents = await readSafetensors(path.join(DIR, 'cases.safetensors'));
  cases = contents.tensors;
  caseCount = Number(contents.metadata?.cases);
});

afterAll(() => model?.dispose());

function f32(name: string): Float32Array {
  const t = cases.get(name);
  if (!t) throw new Error(`cases.safetensors: no tensor ${name}`);
  return t.data as Float32Array;
}

it('the image embedding of the tfjs model equals the twin`s', () => {
  const img = cases.get('image')!;
  const [height, width] = img.shape;
  const emb = encodeImage(model, { width, height, data: img.data as Uint8Array });
  try {
    // The twin's embedding is NCHW; the tfjs one channels-last.
    const ours = tf.tidy(() => emb.embedding.transpose([2, 0, 1]).dataSync());
    expectClose('embedding', ours, f32('embedding'));
  } finally {
    emb.dispose();
  }
});

it('every prompt case decodes to the twin`s low-res logits and IoU predictions', () => {
  expect(caseCount).toBe(4);
  const img = cases.get('image')!;
  const [height, width] = img.shape;
  // The embedding caches its layer-0 projections on first use, so count around its whole life.
  const before = tf.memory().numTensors;
  const emb = encodeImage(model, { width, height, data: img.data as Uint8Array });
  try {
    for (let k = 0; k < caseCount; k++) {
      const prompt: ModelPrompt = {};
      if (cases.has(`points_${k}`)) {
        prompt.pointsXY = f32(`points_${k}`);
        prompt.pointLabels = cases.get(`labels_${k}`)!.data as Int32Array;
      }
      if (cases.has(`box_${k}`)) prompt.boxXYXY = f32(`box_${k}`);
      const mask = cases.get(`mask_${k}`);
      const maskInput = mask ? tf.tensor2d(mask.data as Float32Array, mask.shape as [number, number]) : null;
      const multimask = (cases.get(`multimask_${k}`)!.data as Int32Array)[0] === 1;
      const [out] = model.decode([{ embedding: emb, prompt, maskInput, multimaskOutput: multimask }]);
      expect(out.lowResLogits.shape[0]).toBe(multimask ? 3 : 1);
      expectClose(`case ${k} low_res`, out.lowResLogits.dataSync(), f32(`low_res_${k}`));
      expectClose(`case ${k} iou`, out.iouPredictions.dataSync(), f32(`iou_${k}`));
      out.lowResLogits.dispose();
      out.iouPredictions.dispose();
      maskInput?.dispose();
    }
  } finally {
    emb.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
});
