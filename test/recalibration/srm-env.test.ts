/**
 * The SRM inside the prompting env (tiny SAM fixture): it labels the clicks of a batched vector
 * env in one call, trains online after every step through `withSrmTraining`, gives the evaluation
 * start P0, and the ablation presets build envs that run.
 */
import { sharedPath } from '../shared-dir';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { syntheticSplit } from '../../src/data/synthetic';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { SamPromptEnv, type SamPromptEnvOptions } from '../../src/env/prompt/sam-prompt-env';
import { SamPromptVectorEnv } from '../../src/env/prompt/sam-prompt-vector-env';
import {
  ABLATION_NAMES,
  ablationEnvOptions,
  ablationPreset,
  RandomCellPolicy,
} from '../../src/recalibration/ablations';
import { SemanticRecalibrationModule } from '../../src/recalibration/srm';
import { withSrmTraining } from '../../src/recalibration/srm-training';
import { loadSam } from '../../src/sam/pretrained';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import type { SamModel } from '../../src/sam/modeling/sam-model';

const TINY = sharedPath('fixtures/sam/tiny/weights.safetensors');
const G = 4;

let sam: SamModel;
let cache: EmbeddingCache;

beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(TINY);
  cache = new EmbeddingCache(sam, { maxInMemory: 4 });
});

afterAll(() => {
  cache?.clear();
  sam?.dispose();
});

const dataset = () => syntheticSplit({ length: 50, imageSize: 64, distractors: [0, 1], seed: 5 }, 'train');
const newSrm = () => {
  const srm = new SemanticRecalibrationModule({
    gridSize: G,
    embedChannels: sam.config.maskDecoder.transformerDim,
    channels: 8,
    projChannels: 8,
    batchSize: 4,
    replayCapacity: 6,
    seed: 2,
  });
  srm.net.pooledCacheSize = 4;
  return srm;
};

it('labels a vector env in one batch, trains after every step, and keeps memory flat', async () => {
  const srm = newSrm();
  const inner = new SamPromptVectorEnv({
    numEnvs: 2,
    dataset: dataset(),
    embeddings: cache,
    gridSize: G,
    horizon: 3,
    labelSource: 'recalibration',
    labeler: srm,
    seed: 1,
  });
  const calls: number[] = [];
  const labelClicks = srm.labelClicks.bind(srm);
  srm.labelClicks = async (requests) => {
    calls.push(requests.length);
    return labelClicks(requests);
  };
  const losses: number[] = [];
  const env = withSrmTraining(inner, srm, { onUpdate: (s) => losses.push(s.loss) });
  const policy = new RandomCellPolicy(4);
  try {
    let { observations } = await env.reset({ seed: 3 });
    expect(srm.replaySize).toBe(2); // reset observations are recorded
    const counts: number[] = [];
    for (let step = 0; step < 24; step++) {
      const actions = policy.predictBatch(observations);
      // The labels the env will use: the SRM's, for the clicked cells, before this step's update.
      const expected = await labelClicks(
        observations.map((o: PromptObservation, i) => ({ observation: o, cell: actions[i] })),
      );
      const r = await env.step(actions);
      r.infos.forEach((info, i) => {
        const final = (info.final_info as Record<string, unknown> | undefined) ?? info;
        expect(final.label).toBe(expected[i]);
      });
      observations = r.observations;
      if (step === 5 || step === 23) counts.push(tf.memory().numTensors);
    }
    expect(calls).toEqual(new Array(24).fill(2)); // one batched labeler call per vector step
    expect(srm.updates).toBe(24 * srm.config.updatesPerStep);
    expect(losses).toHaveLength(24);
    expect(losses.every((l) => Number.isFinite(l))).toBe(true);
    expect(srm.replaySize).toBe(6);
    // Replay, projection cache and embedding cache are all bounded: no growth per step.
    expect(counts[1] - counts[0]).toBeLessThanOrEqual(4);
  } finally {
    await env.close();
    srm.dispose();
  }
});

it("gives the evaluation start P0: the SRM's highest- and lowest-scoring cells", async () => {
  const srm = newSrm();
  const env = new SamPromptEnv({
    dataset: dataset(),
    embeddings: cache,
    gridSize: G,
    horizon: 2,
    labelSource: 'recalibration',
    labeler: srm,
    initialPrompts: 'labeler',
    seed: 0,
  });
  try {
    const { observation } = await env.reset({ seed: 1 });
    const [scores] = await srm.scoreCells([
      { embedding: observation.embedding, maskProbs: new Float32Array(observation.maskProbs.length).fill(1) },
    ]);
    const hi = scores.indexOf(Math.max(...scores));
    const lo = scores.indexOf(Math.min(...scores));
    expect(observation.clicksPositive[hi]).toBe(1);
    expect(observation.clicksNegative[lo]).toBe(1);
    expect(
      observation.clicksPositive.reduce((a, b) => a + b, 0) + observation.clicksNegative.reduce((a, b) => a + b, 0),
    ).toBe(2);
  } finally {
    await env.close();
    srm.dispose();
  }
});

describe('ablation presets', () => {
  it.each(ABLATION_NAMES)('%s builds an env that runs an episode', async (name) => {
    const srm = newSrm();
    const base: SamPromptEnvOptions = {
      dataset: dataset(),
      embeddings: cache,
      gridSize: G,
      horizon: 3,
      initialPrompts: 'labeler',
      seed: 0,
    };
    const opts = ablationEnvOptions(base, name, srm);
    const preset = ablationPreset(name, { horizon: 3 });
    const env = new SamPromptEnv(opts);
    const policy = new RandomCellPolicy(1);
    try {
      expect(env.labelSource).toBe(preset.env.labelSource);
      expect(env.actionSpace.n).toBe(name === 'without-srm' ? 2 * G * G : G * G);
      expect(env.labeler).toBe(preset.usesSrm ? srm : undefined);
      expect(env.initialPrompts).toBe(preset.usesSrm ? 'labeler' : 'none');
      let { observation } = await env.reset({ seed: 2 });
      let steps = 0;
      for (;;) {
        const r = await env.step(policy.predict(observation));
        steps++;
        observation = r.observation;
        if (r.truncated || r.terminated) break;
      }
      expect(steps).toBe(name === 'single-step' ? 1 : 3);
      expect(preset.policy).toBe(name === 'without-rl' ? 'random' : 'learned');
    } finally {
      await env.close();
      srm.dispose();
    }
  });

  it('rejects unknown names and a missing SRM', () => {
    expect(() => ablationPreset('no-such' as never)).toThrow(
      /unknown ablation 'no-such' \(known: full, without-rl, without-srm, single-step\)/,
    );
    expect(() => ablationEnvOptions({ dataset: dataset(), embeddings: cache }, 'full')).toThrow(
      /ablation 'full' labels clicks with the SRM: pass one/,
    );
  });
});
