/**
 * DQN's options, written once: their types, defaults (Stable-Baselines3's, except bufferSize, as
 * 1e6 observations are out of reach here, and doubleQ), ranges and meanings. `new DQN(env,
 * options)` validates through this schema, and the config's agent.dqn section is the same schema
 * with snake_case keys (src/schema/key-case.ts).
 */
import type { z } from 'zod';
import { s } from '../../schema/schema';
import { agentCommonShape, schedule } from '../option-checks';

/** The hyperparameters a run config sets (agent.dqn.*). */
export const dqnHyperparameters = {
  learningRate: schedule('Learning rate', { min: 0, minExclusive: true })
    .default(1e-4)
    .describe('Adam learning rate: a number or {type: linear, start, end}.'),
  bufferSize: s
    .integer({ min: 1 })
    .default(10_000)
    .describe('Replay buffer capacity (transitions; embeddings are stored once per image).'),
  learningStarts: s.integer({ min: 0 }).default(100).describe('Uniform random actions before learning starts.'),
  batchSize: s.integer({ min: 1 }).default(32).describe('Minibatch size.'),
  tau: s.number({ min: 0, max: 1 }).default(1).describe('Target update coefficient (1: hard copy).'),
  gamma: s.number({ min: 0, max: 1 }).default(0.99).describe('Discount factor.'),
  trainFreq: s.integer({ min: 1 }).default(4).describe('Vector steps between training phases.'),
  gradientSteps: s
    .integer({ min: -1 })
    .default(1)
    .describe('Gradient steps per phase (-1: as many as env steps collected).'),
  targetUpdateInterval: s.integer({ min: 1 }).default(10_000).describe('Env steps between target network updates.'),
  explorationFraction: s
    .number({ min: 0, max: 1 })
    .default(0.1)
    .describe('Fraction of training over which epsilon decays.'),
  explorationInitialEps: s.number({ min: 0, max: 1 }).default(1).describe('Initial epsilon.'),
  explorationFinalEps: s.number({ min: 0, max: 1 }).default(0.05).describe('Final epsilon.'),
  maxGradNorm: s.number({ min: 0, minExclusive: true }).default(10).describe('Global gradient-norm clip.'),
  doubleQ: s.boolean().default(true).describe('Double DQN targets.'),
  nSteps: s.integer({ min: 1 }).default(1).describe('n of n-step returns (1: ordinary one-step targets).'),
  adamEps: s.number({ min: 0, minExclusive: true }).default(1e-8).describe("Adam's epsilon."),
  saveReplayBuffer: s.boolean().default(true).describe('Save the replay buffer with checkpoints (exact resume).'),
  logInterval: s.integer({ min: 1 }).default(100).describe('Gradient steps averaged into one metrics record.'),
};

export const dqnOptionsSchema = s.object({ ...agentCommonShape, ...dqnHyperparameters });

export type DQNOptions = z.infer<typeof dqnOptionsSchema>;

export const DQN_DEFAULTS: DQNOptions = dqnOptionsSchema.parse({});
