/**
 * The schema of an AlignSAM run config: SAM, data, env, reward, agent, SRM, text, training,
 * evaluation and the run folder. Keys are snake_case as in the YAML files. The env's, the
 * network's, the agents' and the SRM's keys are their option schemas (env/prompt/prompt-env-options.ts,
 * agent/networks/net-architecture.ts, agent/ppo/ppo-options.ts, agent/dqn/dqn-options.ts,
 * recalibration/srm-config.ts) under config names, and reward terms are src/reward's; every other
 * key is documented here. The tables in configs/README.md are generated from these descriptions
 * (`alignsam config --docs`).
 *
 * Relative paths in a config resolve against the current working directory (run the CLI from the
 * repository root, or use absolute paths).
 */
import { dqnHyperparameters } from '../agent/dqn/dqn-options';
import { netArchitectureFields } from '../agent/networks/net-architecture';
import { ppoHyperparameters } from '../agent/ppo/ppo-options';
import { SHAPE_NAMES } from '../data/synthetic/shapes';
import { TEXTURE_KINDS } from '../data/synthetic/textures';
import { promptEnvSettings, promptVectorEnvSettings } from '../env/prompt/prompt-env-options';
import { srmOptionFields } from '../recalibration/srm-config';
import { normaliseRewardConfig, REWARD_PRESETS, RewardTermConfig } from '../reward/config';
import type { z } from 'zod';
import { snakeCaseSection, snakeCaseShape } from '../schema/key-case';
import { s, SchemaContext, showValue } from '../schema/schema';

import { BASELINE_NAMES } from '../eval/compare';

/** Evaluation protocols: what may enter an evaluation episode from the ground truth. */
export const EVAL_PROTOCOLS = ['deployed', 'assisted'] as const;
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];

const range = (lo: number, hi: number, integer: boolean) => {
  const text = `[min, max] with ${lo} <= min <= max <= ${hi}`;
  return s.custom<[number, number]>(text, (v, fail) => {
    const ok =
      Array.isArray(v) &&
      v.length === 2 &&
      v.every((x) => typeof x === 'number' && x >= lo && x <= hi && (!integer || Number.isInteger(x))) &&
      v[0] <= v[1];
    if (!ok) fail(`expected ${text}${integer ? ' (integers)' : ''}, got ${showValue(v)}`);
  });
};

/** A reward term list, as src/reward validates it (errors get the key's path). */
const rewardTerms = s.custom<RewardTermConfig[]>('list of terms {term, weight, ...}', (v, fail) => {
  if (!Array.isArray(v) || v.length === 0) return fail(`expected a non-empty list of terms, got ${showValue(v)}`);
  // Term by term first, so a problem is pinned to its list index.
  let failed = false;
  v.forEach((term, i) => {
    try {
      normaliseRewardConfig([term as RewardTermConfig]);
    } catch (err) {
      failed = true;
      fail((err as Error).message.replace(/^reward term 0: /, ''), [i]);
    }
  });
  if (failed) return;
  try {
    normaliseRewardConfig(v as RewardTermConfig[]);
  } catch (err) {
    fail((err as Error).message);
  }
});

export const REWARD_PRESET_NAMES = Object.keys(REWARD_PRESETS) as (keyof typeof REWARD_PRESETS)[];

export const rewardSection = s
  .object({
    preset: s
      .enum(REWARD_PRESET_NAMES)
      .nullable()
      .default(null)
      .describe(
        "A built-in preset: 'alignsam' (the paper's +1 inside the target, -1 outside), 'iou' (IoU gain), 'mixed'. Give either preset, terms or file.",
      ),
    terms: rewardTerms
      .nullable()
      .default(null)
      .describe(
        'Weighted terms: label, label_correct, iou_gain, dice_gain, final_iou, step_cost, repeat_penalty, custom (the reward.terms table below).',
      ),
    file: s
      .string({ nonEmpty: true })
      .nullable()
      .default(null)
      .describe(
        'A YAML file holding {preset} or {terms} (e.g. configs/rewards/mixed.yaml); resolved into terms when the config loads.',
      ),
  })
  .describe('Reward.');

export const SAM_BACKENDS = ['auto', 'wasm', 'tensorflow', 'cpu'] as const;

export const configSchema = s.object({
  sam: s.object({
    checkpoint: s
      .string({ nonEmpty: true })
      .default('micro')
      .describe(
        "'micro' for the embedded micro-SAM in models/micro-sam/, or the path of a SAM checkpoint (.pth or .safetensors, official or Hugging Face names).",
      ),
    config: s
      .string({ nonEmpty: true })
      .nullable()
      .default(null)
      .describe(
        'SAM architecture: a preset (vit_b, vit_l, vit_h) or a config.json path; null: the config.json beside the checkpoint, else inferred from the weights.',
      ),
    backend: s
      .enum(SAM_BACKENDS)
      .default('auto')
      .describe(
        "TensorFlow.js backend: 'auto' (native tensorflow when installed, else wasm), 'wasm', 'tensorflow', 'cpu' (slow, for debugging). The CLI's --backend overrides it.",
      ),
  }),
  data: s.object({
    type: s
      .enum(['synthetic', 'coco', 'folder'] as const)
      .default('synthetic')
      .describe('Data set kind; the matching section below is used.'),
    synthetic: s.object({
      seed: s
        .integer({ min: 0 })
        .default(0)
        .describe('Scene generator seed (splits are disjoint index ranges of this seed).'),
      length: s.integer({ min: 1 }).default(1000).describe('Training scenes.'),
      eval_length: s.integer({ min: 1 }).default(200).describe('Scenes in the evaluation split.'),
      image_size: s.integer({ min: 8, max: 4096 }).default(128).describe('Square image side in pixels.'),
      categories: s
        .array(s.enum(SHAPE_NAMES), { minItems: 1 })
        .default([...SHAPE_NAMES])
        .describe('Shapes that appear (targets and distractors).'),
      targets: s
        .array(s.enum(SHAPE_NAMES), { minItems: 1 })
        .nullable()
        .default(null)
        .describe('Shapes that can be the target (null: all categories).'),
      textures: s
        .array(s.enum(TEXTURE_KINDS), { minItems: 1 })
        .default([...TEXTURE_KINDS])
        .describe('Textures used for background and shapes.'),
      distractors: range(0, 50, true).default([0, 3]).describe('Inclusive range of distractor shapes per scene.'),
      size_range: range(0.01, 1, false)
        .default([0.12, 0.28])
        .describe('Outer radius range, as a fraction of the image side.'),
      camouflage: s
        .number({ min: 0, max: 1 })
        .default(0)
        .describe('Probability of a camouflaged scene (target textured like the background).'),
      multi: s.number({ min: 0, max: 1 }).default(0).describe('Probability of a scene with several target instances.'),
      multi_target: s
        .enum(['all', 'one'] as const)
        .default('all')
        .describe("In multi scenes, the target is every instance ('all') or one of them ('one')."),
    }),
    coco: s.object({
      annotation_file: s
        .string({ nonEmpty: true })
        .nullable()
        .default(null)
        .describe('COCO instances JSON (required when type is coco).'),
      images_dir: s
        .string({ nonEmpty: true })
        .nullable()
        .default(null)
        .describe("Image folder (null: 'images/' beside the annotation file)."),
      categories: s
        .array(s.string({ nonEmpty: true }))
        .nullable()
        .default(null)
        .describe('Category names to keep (null: all).'),
      mode: s
        .enum(['instance', 'category'] as const)
        .default('instance')
        .describe("'instance': one instance per sample; 'category': all instances of a category in an image."),
      min_area: s.number({ min: 0 }).default(0).describe('Smallest instance area in pixels.'),
      skip_crowd: s.boolean().default(true).describe('Leave out crowd annotations.'),
    }),
    folder: s.object({
      root: s
        .string({ nonEmpty: true })
        .nullable()
        .default(null)
        .describe('Folder holding images/ and masks/ with the same base names (required when type is folder).'),
      images_dir: s
        .string({ nonEmpty: true })
        .nullable()
        .default(null)
        .describe("Image folder (null: '<root>/images')."),
      masks_dir: s.string({ nonEmpty: true }).nullable().default(null).describe("Mask folder (null: '<root>/masks')."),
      mask_format: s
        .enum(['binary', 'instances'] as const)
        .default('binary')
        .describe("'binary': non-zero is the target; 'instances': pixel values are instance ids (0 = background)."),
      target: s
        .enum(['all', 'instance'] as const)
        .default('all')
        .describe("'all': all foreground is one target; 'instance': one sample per instance."),
      target_name: s
        .string()
        .nullable()
        .default(null)
        .describe('A fixed name for every target (null: from names_file, else no name: an implicit task).'),
      names_file: s
        .string({ nonEmpty: true })
        .nullable()
        .default(null)
        .describe('JSON file mapping image base names (or base#instance) to target names.'),
    }),
    on_bad_sample: s
      .enum(['error', 'skip'] as const)
      .default('error')
      .describe("'error': a bad image or mask stops the run naming the file; 'skip': leave it out and report it."),
    split: s.object({
      seed: s
        .integer({ min: 0 })
        .default(0)
        .describe(
          'Seed of the train/val/test split of coco and folder data sets (synthetic data has its own disjoint splits).',
        ),
      val_fraction: s
        .number({ min: 0, max: 1, maxExclusive: true })
        .default(0.1)
        .describe('Fraction of samples held out for validation.'),
      test_fraction: s
        .number({ min: 0, max: 1, maxExclusive: true })
        .default(0.1)
        .describe('Fraction of samples held out for testing.'),
    }),
    eval_split: s
      .enum(['val', 'test'] as const)
      .default('val')
      .describe('Split used by periodic and final evaluation.'),
  }),
  env: s.object({
    // The env's own settings under their config names; the labeler is the SRM (srm.enabled).
    ...snakeCaseShape(promptEnvSettings),
    num_envs: promptVectorEnvSettings.numEnvs.default(4),
    vector: s
      .enum(['sync', 'async'] as const)
      .default('sync')
      .describe(
        "'sync': one thread, one batched SAM call per step; 'async': envs sharded over worker threads (uses more cores; needs embedding_cache.dir).",
      ),
    // workers is the config's name for numWorkers.
    workers: promptVectorEnvSettings.numWorkers.describe(
      "Worker threads of env.vector 'async' (each loads its own SAM, so each uses a core).",
    ),
    embedding_cache: s.object({
      dir: s
        .string({ nonEmpty: true })
        .nullable()
        .default('.cache/embeddings')
        .describe('Disk cache of image embeddings (null: memory only). `alignsam embed` fills it ahead of training.'),
      max_in_memory: s.integer({ min: 1 }).default(256).describe('Embeddings kept in memory.'),
      workers: s
        .integer({ min: 1, max: 256 })
        .nullable()
        .default(null)
        .describe(
          "Worker threads that encode images, each with its own SAM (null: one per core, fewer if memory is short; 1: the main thread). Not with the native 'tensorflow' backend, which spreads one image over every core.",
        ),
    }),
  }),
  reward: rewardSection,
  agent: s.object({
    algo: s
      .enum(['ppo', 'dqn'] as const)
      .default('ppo')
      .describe('The learner.'),
    // The architecture's sizes under config names (its other choices keep their defaults in a run).
    net: snakeCaseSection({
      projChannels: netArchitectureFields.projChannels,
      embedConvChannels: netArchitectureFields.embedConvChannels,
      gridConvChannels: netArchitectureFields.gridConvChannels,
      valueHidden: netArchitectureFields.valueHidden,
    }),
    ppo: snakeCaseSection(ppoHyperparameters),
    dqn: snakeCaseSection(dqnHyperparameters),
  }),
  srm: s.object({
    enabled: s
      .boolean()
      .nullable()
      .default(null)
      .describe(
        "Train the semantic recalibration module alongside the agent. null: on exactly when something needs it (env.label_source 'recalibration', or 'labeler' initial prompts).",
      ),
    // The SRM's own options under their config names; q is the paper's name for updatesPerStep.
    branch: srmOptionFields.branch.default('implicit'),
    q: srmOptionFields.updatesPerStep.default(1),
    state: srmOptionFields.state,
    cell_truth: srmOptionFields.cellTruth,
    pretrain: s.object({
      images: s
        .integer({ min: 0 })
        .default(0)
        .describe(
          'Training images whose ground truth pre-trains the SRM before RL (0: none; capped at the split size). The paper trains its SRM on 50 images per task.',
        ),
      updates: s.integer({ min: 0 }).default(1500).describe('Minibatch updates of the pre-training.'),
      batch_size: s.integer({ min: 1 }).default(32).describe('Minibatch size of the pre-training.'),
      cache_dir: s
        .string({ nonEmpty: true })
        .nullable()
        .default('.cache/srm-pretrained')
        .describe(
          'Keeps each pre-trained SRM under a hash of everything it depends on (SAM weights, data, grid, SRM settings but q, seed), so a second run with the same settings loads it instead of pre-training again (null: always pre-train).',
        ),
    }),
    // A run's default, not the module's (1e-3): configs that leave it out resolve to 1e-4.
    learning_rate: srmOptionFields.learningRate.default(1e-4),
  }),
  text: s.object({
    encoder: s
      .enum(['none', 'hashed', 'use'] as const)
      .default('none')
      .describe(
        "Target-name vectors: 'none' (no text input), 'hashed' (character n-gram hashing, offline), 'use' (Universal Sentence Encoder from use_dir).",
      ),
    dim: s.integer({ min: 1 }).default(64).describe("Vector length of the 'hashed' encoder (USE gives 512)."),
    use_dir: s
      .string({ nonEmpty: true })
      .nullable()
      .default(null)
      .describe('Folder holding the USE model.json, weights and vocab.json (`alignsam download use`).'),
  }),
  train: s.object({
    total_timesteps: s.integer({ min: 1 }).default(20000).describe('Env steps (summed over envs) to train for.'),
    seed: s.integer({ min: 0 }).default(0).describe('Seeds the agent, the envs and evaluation.'),
    eval_every: s
      .integer({ min: 0 })
      .default(0)
      .describe('Env steps between evaluations during training (0: only at the end).'),
    checkpoint_every: s
      .integer({ min: 0 })
      .default(5000)
      .describe('Env steps between checkpoints (0: only at the end).'),
    eval_episodes: s.integer({ min: 1 }).default(20).describe('Episodes per evaluation during training.'),
    progress: s.boolean().default(true).describe('Draw a progress bar on stderr.'),
  }),
  eval: s.object({
    protocol: s
      .enum(EVAL_PROTOCOLS)
      .default('deployed')
      .describe(
        "How evaluation episodes start: 'deployed' (nothing from the ground truth enters an episode: P0 is the SRM's highest- and lowest-scoring cells, or empty without an SRM; the paper's test protocol) or 'assisted' (P0 = one random positive and one negative ground-truth point, the paper's training start).",
      ),
    episodes: s
      .integer({ min: 1 })
      .default(100)
      .describe('Episodes of the final evaluation (the same episodes for the agent and each baseline).'),
    baselines: s
      .array(s.enum(BASELINE_NAMES))
      .default([...BASELINE_NAMES])
      .describe(
        "Rows evaluated beside the agent on the same episodes: 'random' and 'centre' cells and the 'oracle' clicker, labelled by the env's label source; 'oracle-gt', the oracle clicker with ground-truth labels (the ceiling); 'random-gt', random cells with ground-truth labels (does SAM hold its mask under correct clicks?); 'srm-map', the SRM's grid map as the mask (no SAM).",
      ),
    clicks: s
      .array(s.integer({ min: 1 }), { minItems: 1 })
      .default([1, 3, 5, 10, 15])
      .describe('k of the reported mIoU@k.'),
    thresholds: s
      .array(s.number({ min: 0, max: 1, minExclusive: true }), { minItems: 1 })
      .default([0.85, 0.9])
      .describe('IoU thresholds of NoC (clicks to reach) and NoF (failures).'),
    pictures: s.integer({ min: 0 }).default(6).describe('Episode pictures saved in the report.'),
  }),
  run: s.object({
    name: s
      .string({
        nonEmpty: true,
        pattern: /^(?!\.\.?$)[A-Za-z0-9._-]+$/,
        patternText: 'a single folder name of letters, digits, ".", "_" or "-" (not "." or "..")',
      })
      .nullable()
      .default(null)
      .describe('Run folder name (null: the config file name and a timestamp).'),
    dir: s.string({ nonEmpty: true }).default('runs').describe('Folder holding the run folders.'),
  }),
});

/** A config as the schema reads it: srm.enabled may still be null ("as needed"). */
export type SchemaConfig = z.infer<typeof configSchema>;
/** A resolved config (resolveConfig decides srm.enabled). */
export type AlignSamConfig = Omit<SchemaConfig, 'srm'> & {
  srm: Omit<SchemaConfig['srm'], 'enabled'> & { enabled: boolean };
};

/** The initial prompts P0 of an evaluation episode under the config's protocol. */
export function evalInitialPrompts(
  config: { eval: { protocol: EvalProtocol }; srm: { enabled: boolean | null } },
  protocol: EvalProtocol = config.eval.protocol,
): 'none' | 'ground-truth' | 'labeler' {
  if (protocol === 'assisted') return 'ground-truth';
  return config.srm.enabled ? 'labeler' : 'none';
}
export type RewardSection = AlignSamConfig['reward'];

/** Checks that span several keys, after the per-key schema passed. */
export function crossCheck(c: AlignSamConfig, ctx: SchemaContext): void {
  const given = [c.reward.preset !== null, c.reward.terms !== null, c.reward.file !== null].filter(Boolean).length;
  if (given > 1) ctx.at('reward').fail('give one of preset, terms or file');
  if (c.data.type === 'coco' && c.data.coco.annotation_file === null)
    ctx.at('data').at('coco').at('annotation_file').fail("required when data.type is 'coco'");
  if (c.data.type === 'folder' && c.data.folder.root === null)
    ctx.at('data').at('folder').at('root').fail("required when data.type is 'folder'");
  if (c.data.split.val_fraction + c.data.split.test_fraction >= 1)
    ctx.at('data').at('split').fail('val_fraction + test_fraction must be < 1 (something must be left to train on)');
  const syn = c.data.synthetic;
  if (syn.targets) {
    for (const t of syn.targets)
      if (!syn.categories.includes(t))
        ctx.at('data').at('synthetic').at('targets').fail(`target '${t}' is not among data.synthetic.categories`);
  }
  if (c.env.label_source === 'recalibration' && !c.srm.enabled) {
    ctx.at('env').at('label_source').fail("'recalibration' needs srm.enabled: true (or use 'agent' or 'oracle')");
  }
  if (c.env.initial_prompts === 'labeler' && !c.srm.enabled)
    ctx.at('env').at('initial_prompts').fail("'labeler' needs srm.enabled: true");
  if (c.env.vector === 'async' && c.env.embedding_cache.dir === null)
    ctx
      .at('env')
      .at('embedding_cache')
      .at('dir')
      .fail("required by env.vector 'async' (the workers share embeddings through it)");
  if (c.env.vector === 'async' && c.env.initial_prompts === 'labeler')
    ctx.at('env').at('initial_prompts').fail("'labeler' is not supported with env.vector 'async'");
  if (c.env.vector === 'async' && c.srm.enabled && c.env.observe_labeler)
    ctx
      .at('env')
      .at('observe_labeler')
      .fail(
        "is not supported with env.vector 'async' (the workers do not run the SRM); set it to false or use env.vector 'sync'",
      );
  if (c.text.encoder === 'use' && c.text.use_dir === null)
    ctx.at('text').at('use_dir').fail("required when text.encoder is 'use'");
  if (c.srm.enabled && c.srm.branch === 'explicit' && c.text.encoder === 'none')
    ctx.at('srm').at('branch').fail("'explicit' needs target-name vectors: set text.encoder to 'hashed' or 'use'");
  for (const k of c.eval.clicks)
    if (k > c.env.horizon) ctx.at('eval').at('clicks').fail(`k = ${k} exceeds env.horizon = ${c.env.horizon}`);
  if (c.agent.algo === 'ppo' && c.agent.ppo.batch_size > c.agent.ppo.n_steps * c.env.num_envs) {
    ctx
      .at('agent')
      .at('ppo')
      .at('batch_size')
      .fail(
        `${c.agent.ppo.batch_size} exceeds a rollout of n_steps x num_envs = ${c.agent.ppo.n_steps * c.env.num_envs} samples`,
      );
  }
}
