/**
 * The prompting env's observation and vector-env types must be accepted by the agents as they are
 * (checked by the type checker through the assignments below) and its vector env must autoreset
 * in the mode the agents need.
 */
import type { PromptObservation as EnvPromptObservation } from '../../src/env/prompt/observation';
import type { VectorEnv } from '../../src/env/vector/types';
import type { PromptObservation } from '../../src/agent/observation';
import { asVecEnv, AgentVecEnv } from '../../src/agent/vec-env';

type Assignable<A, B> = A extends B ? true : false;
const obsFits: Assignable<EnvPromptObservation, PromptObservation> = true;
const vecFits: Assignable<VectorEnv<EnvPromptObservation, number>, AgentVecEnv<EnvPromptObservation>> = true;

describe('env compatibility', () => {
  it('accepts the prompting env observation and vector env types', () => {
    expect(obsFits && vecFits).toBe(true);
  });

  it("rejects a vector env that does not autoreset 'same-step'", () => {
    const fake = { numEnvs: 1, autoresetMode: 'next-step', reset: async () => ({ observations: [], infos: [] }), step: async () => { throw new Error('unused'); }, close: async () => undefined };
    expect(() => asVecEnv(fake as unknown as AgentVecEnv)).toThrow(/same-step/);
  });
});
