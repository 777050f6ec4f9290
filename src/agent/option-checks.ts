/**
 * What the option schemas of PPO and DQN share: the options every agent takes, and the schedule
 * type of learning rates and clip ranges. The agents validate their options through these schemas
 * and the config's agent.ppo / agent.dqn sections are the same schemas with snake_case keys, so an
 * agent built in code refuses exactly what a config file would.
 */
import type { z } from 'zod';
import { NumberRule, s, Section, validate } from '../schema/schema';
import { type NetArchitecture, netArchitectureSchema } from './networks/net-architecture';

/**
 * A constant within `rule`, or {type: 'linear', start, end}: start within `rule`, end within it
 * with 0 allowed (annealing to zero is the usual end).
 */
export const schedule = (what: string, rule: NumberRule) =>
  s.union(
    s.number(rule),
    s.object({
      type: s.enum(['linear'] as const).describe('Schedule kind.'),
      start: s.number(rule).describe(`${what} at the start of training.`),
      end: s.number({ ...rule, min: 0, minExclusive: false }).describe(`${what} at the end of training.`),
    }),
  );

/** The options of every agent (not in a config's agent sections: the run sets them from train.seed and agent.net). */
export const agentCommonShape = {
  seed: s
    .number()
    .default(0)
    .describe("Seeds network initialisation, action sampling, minibatch order and the env's first reset."),
  net: s
    // Checked by the architecture's schema but kept as given: what is left out follows the
    // architecture's defaults when the network is built.
    .custom<Partial<NetArchitecture>>('a section of network sizes', (v, fail) => {
      for (const issue of validate(netArchitectureSchema, v).issues)
        fail(issue.message, issue.path === '(root)' ? [] : [issue.path]);
    })
    .default({})
    .describe(
      'Network sizes (see networks/net-architecture.ts); the sizes tied to the env are read from observations.',
    ),
  verbose: s.literal(0, 1).default(0).describe('1: print a summary line per training iteration to stderr.'),
  scheduleTimesteps: s
    .integer({ min: 1 })
    .nullable()
    .default(null)
    .describe(
      "The timestep count at which schedules (learning rate, clip range, exploration) reach their end. null (SB3's behaviour): the end of the current learn() call. Set it to the planned total so that training split over several learn() calls or resumed from a checkpoint follows the same schedule as one uninterrupted run.",
    ),
};

export type AgentCommonOptions = z.infer<Section<typeof agentCommonShape>>;
