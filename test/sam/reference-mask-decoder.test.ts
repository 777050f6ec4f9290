/**
 * The fast mask decoder (folded cross-attention, per-image layer-0 cache, low-rank upscaling,
 * sub-pixel layout, folded GELU factors) against the decoder written as the reference computes it,
 * on the trained micro-SAM and on vitb2's full-size decoder: masks and IoU predictions within the
 * parity tolerance, for one click (low-rank path), many clicks (direct path), boxes and a mask
 * input (no cache), each with single and multimask output.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { samConfigFromJson } from '../../src/sam/config';
import { ImageEmbedding } from '../../src/sam/image-embedding';
import type { ModelPrompt } from '../../src/sam/modeling/prompt-encoder';
import { ReferenceMaskDecoder } from '../../src/sam/modeling/reference/mask-decoder';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { readSamCheckpoint, toRawWeights } from '../../src/sam/weights/checkpoint';
import { ParamStore } from '../../src/sam/weights/params';
import { SamFixture, expectClose } from './fixture';

const MICRO = path.resolve(__dirname, '../../models/micro-sam');

beforeAll(async () => {
  await initBackend('wasm');
});

/** n clicks spread over an s x s input frame, positive and negative in turn. */
function clicks(n: number, s: number): Required<Pick<ModelPrompt, 'pointsXY' | 'pointLabels'>> {
  const pointsXY: number[] = [];
  const pointLabels: number[] = [];
  for (let i = 0; i < n; i++) {
    pointsXY.push(((37 * i + 11) % s) + 0.25, ((91 * i + 29) % s) + 0.5);
    pointLabels.push(i % 2 === 0 ? 1 : 0);
  }
  return { pointsXY, pointLabels };
}

async function checkAgainstReference(
  weightsFile: string,
  configJson: unknown,
  embeddingHwc: (sam: SamModel) => tf.Tensor3D,
): Promise<void> {
  const raw = toRawWeights(await readSamCheckpoint(weightsFile), weightsFile);
  const config = samConfigFromJson(configJson);
  const sam = SamModel.fromWeights(config, raw);
  const store = new ParamStore(raw);
  const reference = new ReferenceMaskDecoder(config.maskDecoder, store);
  const s = config.imageEncoder.imgSize;
  const embedding = new ImageEmbedding('k', embeddingHwc(sam), { height: s, width: s }, { height: s, width: s });
  // Enough clicks that the heads' token count reaches D: the direct upscaling product.
  const many = config.maskDecoder.transformerDim / config.maskDecoder.transformer.numHeads;
  const box = [0.2 * s, 0.3 * s, 0.7 * s + 0.5, 0.9 * s];
  const [previous] = sam.decode([{ embedding, prompt: clicks(1, s), multimaskOutput: false }]);
  const maskInput = previous.lowResLogits.squeeze([0]) as tf.Tensor2D;
  const cases: Array<{ name: string; prompt: ModelPrompt; maskInput?: tf.Tensor2D }> = [
    { name: 'one click', prompt: clicks(1, s) },
    { name: 'two clicks', prompt: clicks(2, s) },
    { name: `${many} clicks`, prompt: clicks(many, s) },
    { name: 'box', prompt: { boxXYXY: box } },
    { name: 'box and click', prompt: { ...clicks(1, s), boxXYXY: box } },
    { name: 'two clicks and a mask input', prompt: clicks(2, s), maskInput },
  ];
  try {
    for (const c of cases) {
      for (const multimaskOutput of [true, false]) {
        const tag = `${config.name}, ${c.name}, ${multimaskOutput ? 'multimask' : 'single mask'}`;
        const [fast] = sam.decode([{ embedding, prompt: c.prompt, maskInput: c.maskInput, multimaskOutput }]);
        const sparse = sam.sparseEmbeddings(c.prompt);
        const dense = sam.denseEmbedding(c.maskInput);
        const before = tf.memory().numTensors;
        const ref = reference.decode(embedding.embedding, sam.promptEncoder.densePe, sparse, dense, multimaskOutput);
        expect(tf.memory().numTensors).toBe(before + 2);
        tf.dispose([sparse, dense]);
        expect(fast.lowResLogits.shape).toEqual(ref.lowResLogits.shape);
        expect(fast.lowResLogits.shape[0]).toBe(multimaskOutput ? config.maskDecoder.numMultimaskOutputs : 1);
        expectClose(`${tag}: low_res_logits`, fast.lowResLogits.dataSync(), ref.lowResLogits.dataSync());
        expectClose(`${tag}: iou_predictions`, fast.iouPredictions.dataSync(), ref.iouPredictions.dataSync());
        tf.dispose([fast.lowResLogits, fast.iouPredictions, ref.lowResLogits, ref.iouPredictions]);
      }
    }
  } finally {
    tf.dispose([previous.lowResLogits, previous.iouPredictions, maskInput]);
    embedding.dispose();
    store.dispose();
    sam.dispose();
  }
}

describe('the fast mask decoder equals the reference-shaped one', () => {
  test('micro-SAM (trained weights, width 64)', async () => {
    const config = JSON.parse(fs.readFileSync(path.join(MICRO, 'config.json'), 'utf8'));
    await checkAgainstReference(path.join(MICRO, 'weights.safetensors'), config, (sam) =>
      tf.tidy(() => sam.encodeImage(tf.randomUniform([128, 128, 3], -2, 2, 'float32', 3) as tf.Tensor3D)),
    );
  });

  test('vitb2 (the full-size decoder: width 256, 64 x 64 grid) on the fixture image embedding', async () => {
    const fx = await SamFixture.load('vitb2');
    const image = fx.cases.images[0];
    await checkAgainstReference(path.join(fx.dir, 'weights.safetensors'), fx.config, () =>
      tf.tensor3d(fx.nchwToHwc(image.tensors.embeddings), [64, 64, 256]),
    );
  }, 120_000);
});
