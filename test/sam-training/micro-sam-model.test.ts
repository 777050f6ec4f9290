/**
 * The committed micro-SAM (models/micro-sam) loads with the frozen-model loader and segments
 * held-out synthetic scenes with the oracle clicker at least as well as its model card says
 * (a bound a little below the measured value on these scenes), and better than the same
 * architecture with random weights.
 */
import * as path from 'node:path';
import { initBackend } from '../../src/backend';
import { syntheticSplit } from '../../src/data/synthetic';
import { loadSam } from '../../src/sam/pretrained';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { MICRO_SAM_DATA } from '../../src/sam-training/micro-sam-config';
import { oracleClickEval } from '../../src/sam-training/oracle-eval';

const WEIGHTS = path.join(__dirname, '../../models/micro-sam/weights.safetensors');
const SCENES = 20;
// The project's target for the micro-SAM is mIoU >= 0.80 with 3 oracle clicks; the committed
// weights measure 0.888 on these 20 test scenes (MODEL_CARD.md gives the 100-scene numbers), so a
// regression in the weights, the loader or the predictor fails it.
const MIOU3_LOWER_BOUND = 0.8;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('committed micro-SAM', () => {
  it('segments held-out scenes with 3 oracle clicks, above its bound and above random weights', async () => {
    const model = await loadSam(WEIGHTS);
    const test = syntheticSplit({ ...MICRO_SAM_DATA, length: SCENES }, 'test');
    const trained = await oracleClickEval(model, test, SCENES, 3);
    const random = SamModel.fromWeights(model.config, randomSamWeights(model.config, 1));
    const baseline = await oracleClickEval(random, test, SCENES, 3);
    model.dispose();
    random.dispose();
    expect(trained.miouAtClick[2]).toBeGreaterThanOrEqual(MIOU3_LOWER_BOUND);
    expect(trained.miouAtClick[2]).toBeGreaterThan(baseline.miouAtClick[2] + 0.5);
  }, 60_000);
});
