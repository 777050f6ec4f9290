/**
 * PPO's options, written once: their types, defaults (Stable-Baselines3's), ranges and meanings.
 * `new PPO(env, options)` validates through this schema, and the config's agent.ppo section is the
 * same schema with snake_case keys (src/schema/key-case.ts).
 */
import type { z } from 'zod';
import { s } from '../../schema/schema';
import { agentCommonShape, schedule } from '../option-checks';

/** The hyperparameters a run config sets (agent.ppo.*). */
export const ppoHyperparameters = {
  learningRate: schedule('Learning rate', { min: 0, minExclusive: true })
    .default(3e-4)
    .describe('Adam learning rate: a number, or {type: linear, start, end}.'),
  nSteps: s
    .integer({ min: 1 })
    .default(2048)
    .describe('Steps per env per rollout (the paper: one episode, = env.horizon).'),
  batchSize: s.integer({ min: 1 }).default(64).describe('Minibatch size.'),
  nEpochs: s.integer({ min: 1 }).default(10).describe('Passes over each rollout (the paper: 20).'),
  gamma: s.number({ min: 0, max: 1 }).default(0.99).describe('Discount factor.'),
  gaeLambda: s
    .number({ min: 0, max: 1 })
    .default(0.95)
    .describe('GAE lambda (1: plain discounted returns minus the value, as the paper).'),
  clipRange: schedule('Clip range', { min: 0, max: 1, minExclusive: true })
    .default(0.2)
    .describe('Policy clip epsilon in (0, 1]: a number or a linear schedule.'),
  clipRangeVf: s
    .number({ min: 0, minExclusive: true })
    .nullable()
    .default(null)
    .describe('Value clip (null: unclipped value loss).'),
  normalizeAdvantage: s.boolean().default(true).describe('Normalise advantages per minibatch.'),
  entCoef: s.number({ min: 0 }).default(0).describe('Entropy bonus coefficient.'),
  vfCoef: s.number({ min: 0 }).default(0.5).describe('Value loss coefficient.'),
  maxGradNorm: s.number({ min: 0, minExclusive: true }).default(0.5).describe('Global gradient-norm clip.'),
  targetKl: s
    .number({ min: 0, minExclusive: true })
    .nullable()
    .default(null)
    .describe('Stop an update early when approx-KL exceeds 1.5 x this (null: never).'),
  adamEps: s.number({ min: 0, minExclusive: true }).default(1e-5).describe("Adam's epsilon."),
};

export const ppoOptionsSchema = s.object({ ...agentCommonShape, ...ppoHyperparameters });

export type PPOOptions = z.infer<typeof ppoOptionsSchema>;

/** Stable-Baselines3's PPO defaults. */
export const PPO_DEFAULTS: PPOOptions = ppoOptionsSchema.parse({});

/**
 * Named settings. `alignsamPaper`: the AlignSAM paper's (lr 1e-4, gamma 0.99, clip 0.2, 20 epochs,
 * an update after each episode of T = 15 steps, returns bootstrapped by the critic with no GAE, i.e.
 * lambda = 1). Set nSteps to your horizon if it is not 15. Minibatch size is not given in the paper.
 */
export const PPO_PRESETS: Record<'sb3' | 'alignsamPaper', Partial<PPOOptions>> = {
  sb3: {},
  alignsamPaper: {
    learningRate: 1e-4,
    gamma: 0.99,
    clipRange: 0.2,
    nEpochs: 20,
    nSteps: 15,
    gaeLambda: 1,
    batchSize: 64,
  },
};
