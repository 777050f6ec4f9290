/**
 * The memory plan of a frozen SAM: a model the heap cannot hold is refused before anything is
 * read or uploaded, and the plan bounds what the model asks of the heap (measured by buffer) on
 * each path the encoder can take, closely enough to mean something.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { SAM_PRESETS, SamConfig } from '../../src/sam/config';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { loadSam } from '../../src/sam/pretrained';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { loadSimdKernels } from '../../src/tfjs-ops/simd/simd-module';
import { measureHeapUse } from '../../src/tfjs-ops/wasm-heap';
import { FIXTURES_DIR } from './fixture';
import { SMALL_SAM, smallSamVariant } from './small-sam';

/** 512-px input, a 32x32 grid, windows of 5 (padded to 35) around one global block. */
const MID: SamConfig = smallSamVariant('mid-encoder', {
  imgSize: 512,
  patchSize: 16,
  embedDim: 64,
  depth: 3,
  numHeads: 4,
  mlpRatio: 4,
  windowSize: 5,
  globalAttnIndexes: [1],
});

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await loadSimdKernels({ build: 'relaxed' });
});

describe('a model the heap cannot hold', () => {
  it('is refused before any tensor is made, naming the model, the bytes needed and the limit', () => {
    const weights = randomSamWeights(SMALL_SAM, 0);
    const tensors = tf.memory().numTensors;
    const data = tf.backend().numDataIds();
    let message = '';
    try {
      SamModel.fromWeights(SMALL_SAM, weights, { heapLimit: 100_000 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^SAM 'c' needs (\d+) bytes \([\d.]+ GiB: weights .*activations .* for a 32-px input, allocator [\d.]+ GiB\) on the wasm backend/,
    );
    const needed = Number(/needs (\d+) bytes/.exec(message)![1]);
    expect(needed).toBeGreaterThan(100_000);
    expect(message).toMatch(/its limit of 100000 bytes \(0\.00 GiB\) less \d+ in use/);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(data);
    // The same model fits a limit it is under.
    SamModel.fromWeights(SMALL_SAM, weights, { heapLimit: needed + tf.memory().numBytes }).dispose();
  });

  it('is refused before its weights are checked or its checkpoint read: an over-sized ViT-H geometry', async () => {
    const huge: SamConfig = {
      ...SAM_PRESETS.vit_h,
      imageEncoder: { ...SAM_PRESETS.vit_h.imageEncoder, imgSize: 4096 },
    };
    expect(() => SamModel.fromWeights(huge, new Map())).toThrow(
      /SAM 'vit_h' needs \d+ bytes \(\d+\.\d\d GiB: weights 2\.\d\d GiB, activations \d+\.\d\d GiB for a 4096-px input, allocator \d+\.\d\d GiB\) on the wasm backend, which has \d+ bytes/,
    );
    // The vitb2 fixture does not match this config either: the memory is what is reported.
    await expect(loadSam(path.join(FIXTURES_DIR, 'vitb2', 'weights.safetensors'), { config: huge })).rejects.toThrow(
      /SAM 'vit_h' needs \d+ bytes/,
    );
  });
});

describe('the plan bounds what the model asks of the heap', () => {
  const input = () => tf.randomNormal([512, 512, 3], 0, 1, 'float32', 3) as tf.Tensor3D;

  it.each(['relaxed', 'plain'] as const)('with the %s build of the kernels', async (build) => {
    await loadSimdKernels({ build });
    const weights = randomSamWeights(MID, 1);
    let sam: SamModel | null = null;
    const built = measureHeapUse(() => {
      sam = SamModel.fromWeights(MID, weights);
    });
    const model = sam! as SamModel;
    const plan = model.memoryPlan!;
    expect(plan.weightForm).toBe(build === 'relaxed' ? 'packed' : 'plain');
    expect(built.retainedBytes).toBeLessThanOrEqual(plan.weightBytes);
    expect(built.retainedBytes).toBeGreaterThan(0.7 * plan.weightBytes);
    // The pass as a caller runs it: the input made, encoded and released.
    const pass = measureHeapUse(() => {
      const x = input();
      model.encodeImage(x).dispose();
      x.dispose();
    });
    expect(pass.retainedBytes).toBe(0);
    expect(pass.peakBytes).toBeLessThanOrEqual(plan.activationBytes);
    expect(pass.peakBytes).toBeGreaterThan(0.9 * plan.activationBytes);
    model.dispose();
  });
});
