/**
 * One explicit (text-conditioned) PPO agent serves two target names: on held-out scenes that hold
 * one star and one circle, asked for "star" it clicks the star and asked for "circle" the circle,
 * far more often than the other shape, and far more often than the same agent before training or
 * a random clicker on the same episodes.
 *
 * The env is the real prompting env: SamPromptEnv with the tiny fixture SAM decoding every click,
 * the text vector of the episode's name in the observation (offline hashed n-gram encoder), oracle
 * labels, no P0 (so nothing in the observation points at the target) and the `label` reward term
 * (+1 for a click inside the named target, -1 elsewhere). Every scene appears twice in a split,
 * once per name with that shape as the target; the env draws episodes at random (seeded), so the
 * name of an episode is random, and the image alone never tells which shape pays: only the text
 * vector can. T = 1 (the paper's single-step setting): each click is placed from the image and the
 * name alone. With T = 2 the agent also learned it for 4 of 5 agent seeds, but for one it was still
 * clicking circles for both names after 2048 steps (the circle, the larger shape, is the easy
 * first habit), more than this test can afford.
 *
 * SEMANTIC EVIDENCE ADDED TO THE EMBEDDING (not SAM alone): the tiny fixture SAM has random
 * weights and the micro-SAM was trained for masks, not categories. A probe on the tiny SAM's
 * embeddings (a small MLP on each cell's channels, or on its 3 x 3 neighbourhood) told a star cell
 * from a circle cell no better than always answering "circle" (held-out accuracy at most 0.74
 * against 0.75). The current micro-SAM (16 x 16 x 64) carries some category signal: a linear probe
 * scores 0.78 on held-out star/circle cells against 0.695 for the majority class (AUC 0.83), but
 * an agent on its features alone reached only 0.56-0.84 named clicks within this test's budget
 * (and levelled off near 0.85 with 2.7x the steps), short of the margin asserted here. AlignSAM takes the category from a vision-language map (CLIP
 * Surgery), which has no tfjs port here. So each embedding cell gets, on top of SAM's features, a
 * fixed random mixture of the fractions of its pixels owned by the star and by the circle, plus
 * noise: the category is in the features, entangled with SAM's channels, as a semantic encoder's
 * map would put it there, and never tied to the episode's name. For a cell inside a shape the
 * added vector is about twice the norm of SAM's own (std 2 per channel against SAM's RMS of 1.0);
 * at half that strength the agent needed more updates than this test affords (one of two seeds
 * still ignored the name after 2048 steps). What the test checks is the agent's own job: reading
 * the name from its text vector (FiLM in the policy network) and steering its clicks with it.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { PPO, type PPOOptions } from '../../src/agent/ppo/ppo';
import { syntheticSplit, type SyntheticConfig } from '../../src/data/synthetic';
import { renderScene, type SceneSpec } from '../../src/data/synthetic/scene';
import type { RgbImage, Sample, SegmentationDataset } from '../../src/data/types';
import { ActionGrid } from '../../src/env/prompt/action-grid';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { SamPromptEnv, type SamPromptEnvOptions } from '../../src/env/prompt/sam-prompt-env';
import { SamPromptVectorEnv } from '../../src/env/prompt/sam-prompt-vector-env';
import { loadSam } from '../../src/sam/pretrained';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import { ImageEmbedding } from '../../src/sam/image-embedding';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { HashedNgramEncoder } from '../../src/text/hashed-ngram-encoder';
import { Rng } from '../../src/utils/rng';

const NAMES = ['star', 'circle'] as const;
type Name = (typeof NAMES)[number];
const S = 64; // image side = the tiny SAM's input side
const G = 8; // action grid: one cell per embedding cell
const T = 1; // clicks per episode (see the file comment)
/** Std of the random category mixture; SAM's own channels have an RMS of 1.0 (tiny fixture). */
const EVIDENCE_SCALE = 2;
/** Std of the per-channel noise added with it. */
const EVIDENCE_NOISE = 0.3;

/** One scene: its image, the visible mask of each named shape, and its category evidence. */
interface TwoShapeScene {
  image: RgbImage;
  id: string;
  masks: Record<Name, Uint8Array>;
  /** Per embedding cell, the fraction of its pixels owned by each named shape, [E*E*2]. */
  evidence: Float32Array;
}

/**
 * Scenes with exactly one star and one circle, each visible under at least `minCells` action-cell
 * centres; index 2k is scene k named "star", 2k + 1 the same scene named "circle".
 */
class TwoNameScenes implements SegmentationDataset {
  readonly name: string;
  readonly categories = [...NAMES];
  readonly scenes: TwoShapeScene[] = [];

  constructor(config: SyntheticConfig, split: 'train' | 'test', count: number, embedGrid: number, minCells = 2) {
    const ds = syntheticSplit(config, split);
    this.name = `two-names/${ds.name}`;
    const grid = new ActionGrid(G, 'oracle');
    for (let i = 0; i < ds.length && this.scenes.length < count; i++) {
      const sample = ds.sample(i);
      const scene = sample.meta!.scene as SceneSpec;
      const { owner } = renderScene(scene, false);
      const masks = {} as Record<Name, Uint8Array>;
      for (const n of NAMES) {
        const k = scene.objects.findIndex((o) => o.placement.shape === n);
        masks[n] = Uint8Array.from(owner, (v) => (v === k + 1 ? 1 : 0));
      }
      const centresIn = (m: Uint8Array): number => {
        let c = 0;
        for (let cell = 0; cell < G * G; cell++) {
          const [x, y] = grid.cellCenterXY(cell, S, S);
          if (m[Math.floor(y) * S + Math.floor(x)]) c++;
        }
        return c;
      };
      if (scene.objects.length !== 2 || NAMES.some((n) => centresIn(masks[n]) < minCells)) continue;
      const k = S / embedGrid;
      const evidence = new Float32Array(embedGrid * embedGrid * 2);
      const [star, circle] = [masks[NAMES[0]], masks[NAMES[1]]];
      for (let p = 0; p < S * S; p++) {
        // Integer division without Math (a global lookup per pixel is slow under jest).
        const cell = (((p / S / k) | 0) * embedGrid + (((p % S) / k) | 0)) * 2;
        evidence[cell] += star[p] / (k * k);
        evidence[cell + 1] += circle[p] / (k * k);
      }
      this.scenes.push({ image: sample.image, id: sample.id, masks, evidence });
    }
    if (this.scenes.length < count)
      throw new Error(`${this.name}: only ${this.scenes.length} usable scenes of ${count}`);
    this.length = 2 * count;
  }

  readonly length: number;

  nameOf(index: number): Name {
    return NAMES[index % 2];
  }

  sceneOf(index: number): TwoShapeScene {
    return this.scenes[Math.floor(index / 2)];
  }

  async get(index: number): Promise<Sample> {
    const s = this.sceneOf(index);
    const name = this.nameOf(index);
    return { id: `${s.id}:${name}`, image: s.image, mask: s.masks[name], width: S, height: S, targetName: name };
  }
}

/**
 * SAM's embedding of each scene plus the scene's category evidence (see the file comment): a
 * fixed random [2, C] mixture of the star and circle fractions of each cell, plus seeded noise.
 * The result keeps SAM's shape, so SAM decodes clicks on it as on its own embedding.
 */
class EmbeddingsWithEvidence extends EmbeddingCache {
  private readonly made = new Map<RgbImage, Promise<ImageEmbedding>>();
  /** Each known image's evidence and the seed of its noise (fixed per scene, not by call order). */
  private readonly scenes = new Map<RgbImage, { evidence: Float32Array; noiseSeed: number }>();
  private readonly mix: tf.Tensor2D;

  constructor(model: SamModel, datasets: TwoNameScenes[], seed: number) {
    super(model, { maxInMemory: 256 });
    for (const d of datasets)
      for (const s of d.scenes)
        this.scenes.set(s.image, { evidence: s.evidence, noiseSeed: seed + 1 + this.scenes.size });
    const rng = new Rng(seed);
    const c = model.config.maskDecoder.transformerDim;
    this.mix = tf.tensor2d(
      Float32Array.from({ length: 2 * c }, () => EVIDENCE_SCALE * rng.normal()),
      [2, c],
    );
  }

  override acquire(image: RgbImage): Promise<ImageEmbedding> {
    // The vector env resets its envs concurrently: one build per image.
    let made = this.made.get(image);
    if (!made) {
      made = this.build(image);
      this.made.set(image, made);
    }
    return made;
  }

  private async build(image: RgbImage): Promise<ImageEmbedding> {
    const scene = this.scenes.get(image);
    if (!scene) throw new Error('EmbeddingsWithEvidence: an image of no known scene');
    const { evidence, noiseSeed } = scene;
    const sam = await super.acquire(image);
    const [e, , c] = sam.embedding.shape;
    const rng = new Rng(noiseSeed);
    const noise = Float32Array.from({ length: e * e * c }, () => EVIDENCE_NOISE * rng.normal());
    const tensor = tf.tidy(() =>
      sam.embedding
        .add(tf.matMul(tf.tensor2d(evidence, [e * e, 2]), this.mix).reshape([e, e, c]))
        .add(tf.tensor3d(noise, [e, e, c])),
    ) as tf.Tensor3D;
    super.release(sam);
    return new ImageEmbedding(`${sam.key}+evidence`, tensor, sam.originalSize, sam.inputSize);
  }

  override release(): void {
    // Made embeddings live until dispose(): about a hundred 8 x 8 x 32 tensors.
  }

  async dispose(): Promise<void> {
    for (const m of this.made.values()) (await m).dispose();
    this.made.clear();
    this.mix.dispose();
    this.clear();
  }
}

interface ClickCounts {
  clicks: number;
  named: number;
  distractor: number;
}

type Policy = (obs: PromptObservation) => Promise<number>;

/** Every (scene, name) episode of `data` once; where each click landed, per name. */
async function clickPlacement(
  env: SamPromptEnv,
  data: TwoNameScenes,
  policy: Policy,
): Promise<Record<Name, ClickCounts>> {
  const out = {} as Record<Name, ClickCounts>;
  for (const n of NAMES) out[n] = { clicks: 0, named: 0, distractor: 0 };
  for (let index = 0; index < data.length; index++) {
    const name = data.nameOf(index);
    const other = NAMES[1 - (index % 2)];
    const scene = data.sceneOf(index);
    let { observation } = await env.reset({ options: { index } });
    for (let t = 0; t < T; t++) {
      const action = await policy(observation);
      const r = await env.step(action);
      const [x, y] = env.grid.cellCenterXY(r.info.cell as number, S, S);
      const p = Math.floor(y) * S + Math.floor(x);
      out[name].clicks++;
      out[name].named += scene.masks[name][p];
      out[name].distractor += scene.masks[other][p];
      observation = r.observation;
    }
  }
  return out;
}

const fractions = (c: ClickCounts) => ({ named: c.named / c.clicks, distractor: c.distractor / c.clicks });

let sam: SamModel;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors'));
});
afterAll(() => sam.dispose());

test('one text-conditioned PPO agent clicks the named shape, not the other one, for both names', async () => {
  const t0 = Date.now();
  const config: SyntheticConfig = {
    seed: 21,
    length: 10000,
    imageSize: S,
    categories: [...NAMES],
    distractors: [1, 1],
    sizeRange: [0.2, 0.32],
  };
  const e = sam.gridSize;
  const train = new TwoNameScenes(config, 'train', 64, e);
  const heldOut = new TwoNameScenes(config, 'test', 50, e);
  const embeddings = new EmbeddingsWithEvidence(sam, [train, heldOut], 5);
  // The default length (512): at 64 the two names' vectors share more buckets (cosine 0.42, not
  // 0.29) and the agent took longer to tell them apart.
  const text = new HashedNgramEncoder();
  const vectors = new Map<string, Float32Array>();
  (await text.embed([...NAMES])).forEach((v, i) => vectors.set(NAMES[i], v));
  const envOptions = (dataset: TwoNameScenes, seed: number): SamPromptEnvOptions => ({
    dataset,
    embeddings,
    labelSource: 'oracle',
    initialPrompts: 'none',
    gridSize: G,
    horizon: T,
    reward: [{ term: 'label', weight: 1 }],
    textDim: text.dim,
    textVector: (name) => {
      const v = vectors.get(name);
      if (!v) throw new Error(`no text vector for '${name}'`);
      return v;
    },
    seed,
  });
  // Training decodes all 8 envs' clicks in one SAM call per step.
  const trainEnvs = new SamPromptVectorEnv({ ...envOptions(train, 100), numEnvs: 8 });
  const evalEnv = new SamPromptEnv(envOptions(heldOut, 200));
  const ppoOptions: Partial<PPOOptions> = {
    seed: 3,
    nSteps: 8,
    batchSize: 32,
    nEpochs: 4,
    learningRate: 2e-3,
    entCoef: 0.01,
    // Each click is paid on its own; a short discount keeps the bootstrap at truncation (the
    // paper's) from adding up an endless tail of the critic's own estimates.
    gamma: 0.5,
    gaeLambda: 0.95,
    // FiLM from the text vector modulates the first grid conv (src/agent/networks/prompt-net.ts).
    net: { projChannels: 16, embedConvChannels: [16], gridConvChannels: [32, 32], valueHidden: 32 },
  };
  const agent = new PPO(trainEnvs, ppoOptions);
  // Same seed, so the same initial weights as `agent`: the agent before training.
  const untrained = new PPO(null, ppoOptions);
  const rng = new Rng(9);
  const random: Policy = async (obs) => {
    const allowed: number[] = [];
    obs.actionMask.forEach((m, a) => m && allowed.push(a));
    return allowed[rng.int(allowed.length)];
  };
  const asPolicy =
    (a: PPO): Policy =>
    (obs) =>
      a.predict(obs, { deterministic: true });
  try {
    const untrainedClicks = await clickPlacement(evalEnv, heldOut, asPolicy(untrained));
    const randomClicks = await clickPlacement(evalEnv, heldOut, random);
    const t1 = Date.now();
    await agent.learn({ totalTimesteps: 1536 });
    const t2 = Date.now();
    const trainedClicks = await clickPlacement(evalEnv, heldOut, asPolicy(agent));
    // Evaluation is deterministic and holds no tensors between episodes.
    const tensors = tf.memory().numTensors;
    expect(await clickPlacement(evalEnv, heldOut, asPolicy(agent))).toEqual(trainedClicks);
    expect(tf.memory().numTensors).toBe(tensors);
    if (process.env.AGENT_TEST_VERBOSE) {
      const f = (c: ClickCounts) => `${c.named}/${c.distractor}/${c.clicks}`;
      const lines = NAMES.map(
        (n) =>
          `${n}: trained ${f(trainedClicks[n])}, untrained ${f(untrainedClicks[n])}, random ${f(randomClicks[n])} (named/distractor/clicks)`,
      );
      console.log(
        `${lines.join('\n')}\nlearn ${((t2 - t1) / 1000).toFixed(1)} s, total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
    // Measured with these seeds on wasm, named/distractor fractions of the 50 clicks per name: star
    // 0.96/0.02, circle 0.94/0.04; untrained 0.08/0.28 and 0.26/0.04; random 0.12/0.10 and
    // 0.20/0.12 (agent seeds 4 and 7: trained 0.98/0.02 and 0.94/0.06, 1.00/0.00 and 0.98/0.02).
    // The run is deterministic on a backend; the bounds leave room for another backend's
    // rounding, not for an agent that ignores the name (that one scores about 0.5 / 0.5 at best).
    for (const n of NAMES) {
      const trained = fractions(trainedClicks[n]);
      expect(trained.named).toBeGreaterThan(trained.distractor + 0.5);
      expect(trained.named).toBeGreaterThan(fractions(randomClicks[n]).named + 0.3);
      expect(trained.named).toBeGreaterThan(fractions(untrainedClicks[n]).named + 0.3);
    }
  } finally {
    agent.dispose();
    untrained.dispose();
    await trainEnvs.close();
    await evalEnv.close();
    await embeddings.dispose();
  }
}, 600000);
