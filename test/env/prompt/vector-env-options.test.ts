import { SamPromptVectorEnv, SamPromptVectorEnvOptions } from '../../../src/env/prompt/sam-prompt-vector-env';

describe('SamPromptVectorEnv options', () => {
  it.each([0, -1, 1.5, NaN, undefined])('numEnvs %p is refused with a clear error', (numEnvs) => {
    // The count is checked before anything else is read, so the other options may be left out.
    expect(() => new SamPromptVectorEnv({ numEnvs } as unknown as SamPromptVectorEnvOptions)).toThrow(
      `SamPromptVectorEnv: numEnvs must be an integer >= 1, got ${String(numEnvs)}`,
    );
  });
});
