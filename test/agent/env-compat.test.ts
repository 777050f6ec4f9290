/**
 * The agents take the env layer's contracts as they are: its vector env (checked by the type
 * checker through the assignments below), one env or a list of envs, and they refuse a vector env
 * that does not autoreset in the mode they need.
 */
import { PPO } from '../../src/agent/ppo/ppo';
import type { AnyEnv } from '../../src/agent/base-agent';
import type { SamPromptVectorEnv } from '../../src/env/prompt/sam-prompt-vector-env';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { SyncVectorEnv } from '../../src/env/vector';
import type { VectorEnv } from '../../src/env/vector/types';
import { BrightCellsEnv } from './bright-cells-env';

type Assignable<A, B> = A extends B ? true : false;
const vecFits: Assignable<VectorEnv<PromptObservation, number>, AnyEnv> = true;
const promptFits: Assignable<SamPromptVectorEnv, AnyEnv> = true;

describe('env compatibility', () => {
  it('accepts the prompting env and its vector env types', () => {
    expect(vecFits && promptFits).toBe(true);
  });

  it("rejects a vector env that does not autoreset 'same-step'", () => {
    const venv = new SyncVectorEnv([() => new BrightCellsEnv()], { autoresetMode: 'next-step' });
    expect(() => new PPO(venv)).toThrow(/the agent needs a vector env with autoresetMode 'same-step', got 'next-step'/);
  });
});
