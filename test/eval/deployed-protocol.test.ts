/**
 * The deployed protocol never reads the ground truth: the same episodes over a data set whose
 * masks were replaced give the same clicks, labels and masks; only the scores change. The
 * assisted protocol (ground-truth P0) does read it, which the same check detects.
 */
import { sharedPath } from '../shared-dir';
import { initBackend } from '../../src/backend';
import type { Sample, SegmentationDataset } from '../../src/data/types';
import { syntheticSplit } from '../../src/data/synthetic';
import { SamPromptEnv } from '../../src/env/prompt/sam-prompt-env';
import type { InitialPrompts } from '../../src/env/prompt/prompt-env-options';
import { agentPolicy, RandomClicker, type ClickPolicy } from '../../src/eval/clickers';
import { evaluateWithBaselines } from '../../src/eval/compare';
import { episodeSpecs, evaluate } from '../../src/eval/evaluate';
import { PPO } from '../../src/agent/ppo/ppo';
import { SemanticRecalibrationModule } from '../../src/recalibration/srm';
import { loadSam } from '../../src/sam/pretrained';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import type { SamModel } from '../../src/sam/modeling/sam-model';

const TINY = sharedPath('fixtures/sam/tiny/weights.safetensors');
const G = 4;

let sam: SamModel;
let cache: EmbeddingCache;
let srm: SemanticRecalibrationModule;

beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(TINY);
  cache = new EmbeddingCache(sam, { maxInMemory: 8 });
  srm = new SemanticRecalibrationModule({
    gridSize: G,
    embedChannels: sam.config.maskDecoder.transformerDim,
    channels: 8,
    projChannels: 8,
    seed: 3,
  });
});

afterAll(() => {
  srm?.dispose();
  cache?.clear();
  sam?.dispose();
});

/** The same images with another target: each sample's mask is shifted by a third of the image. */
function withOtherTargets(data: SegmentationDataset): SegmentationDataset {
  return {
    name: `${data.name} (other targets)`,
    length: data.length,
    async get(i: number): Promise<Sample> {
      const s = await data.get(i);
      const mask = new Uint8Array(s.mask.length);
      const dx = Math.floor(s.width / 3);
      for (let y = 0; y < s.height; y++)
        for (let x = 0; x < s.width; x++) mask[y * s.width + x] = s.mask[y * s.width + ((x + dx) % s.width)];
      return { ...s, mask };
    },
  };
}

async function trace(data: SegmentationDataset, policy: ClickPolicy, initialPrompts: InitialPrompts) {
  const env = new SamPromptEnv({
    dataset: data,
    embeddings: cache,
    gridSize: G,
    horizon: 3,
    labelSource: 'recalibration',
    labeler: srm,
    observeLabeler: true,
    initialPrompts,
    seed: 0,
  });
  const steps: { positive: number[]; negative: number[]; mask: number[] }[] = [];
  const recorder: ClickPolicy = {
    name: policy.name,
    reset: (seed) => policy.reset?.(seed),
    act: (e, obs) => {
      steps.push({
        positive: [...obs.clicksPositive],
        negative: [...obs.clicksNegative],
        mask: [...e.fullResolutionMask()],
      });
      return policy.act(e, obs);
    },
  };
  const report = await evaluate(recorder, env, episodeSpecs(data.length, 4, 11), { pictures: 4 });
  for (const ep of report.episodes)
    steps.push({ positive: ep.picture!.pointsXY, negative: ep.picture!.labels, mask: [...ep.picture!.mask] });
  await env.close();
  return { steps, report };
}

const data = () => syntheticSplit({ length: 6, imageSize: 64, distractors: [1, 2], seed: 4 }, 'val');

it('deployed: replacing the ground truth changes the scores, never the clicks, labels or masks', async () => {
  const agent = new PPO(null, { seed: 1, net: { projChannels: 4, embedConvChannels: [], gridConvChannels: [8] } });
  try {
    for (const policy of [agentPolicy(agent), new RandomClicker(2)]) {
      const a = await trace(data(), policy, 'labeler');
      const b = await trace(withOtherTargets(data()), policy, 'labeler');
      expect(b.steps).toEqual(a.steps);
      expect(b.report.episodes.map((e) => e.sampleId)).toEqual(a.report.episodes.map((e) => e.sampleId));
      // The scores do change: the check would see a leak.
      expect(b.report.episodes.map((e) => e.ious)).not.toEqual(a.report.episodes.map((e) => e.ious));
    }
  } finally {
    agent.dispose();
  }
});

it('assisted: ground-truth P0 makes the same check fail', async () => {
  const policy = new RandomClicker(2);
  const a = await trace(data(), policy, 'ground-truth');
  const b = await trace(withOtherTargets(data()), policy, 'ground-truth');
  expect(b.steps).not.toEqual(a.steps);
});

it('every row of the comparison says its protocol and what it is', async () => {
  const env = new SamPromptEnv({
    dataset: data(),
    embeddings: cache,
    gridSize: G,
    horizon: 3,
    labelSource: 'recalibration',
    labeler: srm,
    initialPrompts: 'labeler',
    seed: 0,
  });
  try {
    const rows = await evaluateWithBaselines(env, null, {
      baselines: ['random', 'oracle', 'oracle-gt', 'random-gt', 'srm-map'],
      episodes: episodeSpecs(6, 3, 0),
      ks: [1, 3],
    });
    expect(rows.map((r) => r.policy)).toEqual(['random', 'oracle', 'oracle-gt', 'random-gt', 'srm-map']);
    expect(rows.every((r) => r.protocol === 'deployed')).toBe(true);
    expect(rows.find((r) => r.policy === 'oracle-gt')!.mean.label_accuracy).toBe(1);
    // random-gt clicks the cells the random row clicks (same seed, same episodes), with true labels.
    const randomGt = rows.find((r) => r.policy === 'random-gt')!;
    expect(randomGt.mean.label_accuracy).toBe(1);
    expect(randomGt.description).toBe('random cells + ground-truth labels');
    expect(randomGt.protocol).toBe('deployed');
    expect(rows.find((r) => r.policy === 'random')!.description).toContain('SRM labels');
    // The SRM map row is one mask per episode: its curve is flat.
    const map = rows.find((r) => r.policy === 'srm-map')!;
    expect(new Set(map.meanIouCurve).size).toBe(1);
    expect(env.variant({ initialPrompts: 'ground-truth' }).protocol).toBe('assisted');
  } finally {
    await env.close();
  }
});
