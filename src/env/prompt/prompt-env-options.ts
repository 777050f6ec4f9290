/**
 * The prompting env's settings, written once: their types, defaults, ranges and meanings.
 * `SamPromptEnv` validates through this schema, the vector and worker envs take the same fields,
 * and the run config's env section is the same schema under snake_case keys
 * (src/schema/key-case.ts).
 */
import type { z } from 'zod';
import { parseOptions, s } from '../../schema/schema';
import { LABEL_SOURCES } from './action-grid';

export const INITIAL_PROMPTS = ['none', 'ground-truth', 'labeler'] as const;
export type InitialPrompts = (typeof INITIAL_PROMPTS)[number];

/** The settings of one env that a run config also sets (env.*). */
export const promptEnvSettings = {
  gridSize: s
    .integer({ min: 1, max: 64 })
    .default(10)
    .describe("Cells per side of the action grid, G (the paper: 10); a click is a cell's centre."),
  horizon: s.integer({ min: 1, max: 100 }).default(15).describe('Agent clicks per episode, T (the paper: 15).'),
  labelSource: s
    .enum(LABEL_SOURCES)
    .default('recalibration')
    .describe(
      "Who labels a click: 'recalibration' (the labeler, i.e. the SRM), 'agent' (the action picks the label too: 2*G*G actions) or 'oracle' (the ground truth).",
    ),
  initialPrompts: s
    .enum(INITIAL_PROMPTS)
    .default('ground-truth')
    .describe(
      "P0 in training: 'none', 'ground-truth' (one random positive and one negative point, the paper's) or 'labeler' (the labeler's best and worst cells).",
    ),
  multimaskOutput: s
    .union(s.boolean(), s.enum(['single-point'] as const))
    .default('single-point')
    .describe(
      "Ask SAM for three masks and keep the best by predicted IoU: true, false, or 'single-point' (only while the prompts are one point, where SAM is ambiguous).",
    ),
  observeLabeler: s
    .boolean()
    .default(false)
    .describe(
      "Show the agent the labeler's cell scores of the image (one more grid channel, computed when an episode starts), so the policy need not learn the target's look again from the embedding. Needs a labeler (a run without the SRM leaves it off).",
    ),
  maskInput: s
    .boolean()
    .default(true)
    .describe(
      "Feed the previous mask's low-res logits back to SAM as its dense prompt (the official interactive loop).",
    ),
};

/** Settings of the library only: a run takes its samples at random and seeds its envs from train.seed. */
export const promptEnvLibrarySettings = {
  sampleOrder: s
    .enum(['random', 'sequential'] as const)
    .default('random')
    .describe("The sample of each reset: 'random' (seeded) or 'sequential'."),
  seed: s
    .integer({ min: 0 })
    .default(0)
    .describe('Seed of the sample order and the ground-truth initial prompts when the first reset gives none.'),
};

export const promptEnvSettingsSchema = s.object({ ...promptEnvSettings, ...promptEnvLibrarySettings });

export type PromptEnvSettings = z.infer<typeof promptEnvSettingsSchema>;

const SETTING_KEYS = Object.keys({ ...promptEnvSettings, ...promptEnvLibrarySettings }) as (keyof PromptEnvSettings)[];

/**
 * The settings among an env's options, checked, with defaults for those left out (undefined).
 * Errors name `owner` and the option.
 */
export function resolvePromptEnvSettings(
  options: Partial<PromptEnvSettings>,
  owner = 'SamPromptEnv',
): PromptEnvSettings {
  const given: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (options[key] !== undefined) given[key] = options[key];
  return parseOptions(owner, promptEnvSettingsSchema, given);
}

/** The settings of a vector of envs (numEnvs has no default in code: a run's is env.num_envs'). */
export const promptVectorEnvSettings = {
  numEnvs: s.integer({ min: 1, max: 256 }).describe('Environments stepped together (their SAM decodes are batched).'),
  numWorkers: s
    .integer({ min: 1, max: 64 })
    .default(2)
    .describe('Worker threads of the worker vector env (each loads its own SAM, so each uses a core).'),
};
