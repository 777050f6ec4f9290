import { SamPromptVectorEnv, SamPromptVectorEnvOptions } from '../../../src/env/prompt/sam-prompt-vector-env';

describe('SamPromptVectorEnv options', () => {
  it.each([0, -1, 1.5, NaN, 257, undefined])('numEnvs %p is refused with a clear error', (numEnvs) => {
    // The count is checked before anything else is read, so the other options may be left out.
    const why =
      numEnvs === undefined
        ? 'required (an integer in [1, 256])'
        : `expected an integer in [1, 256], got ${String(numEnvs)}`;
    expect(() => new SamPromptVectorEnv({ numEnvs } as unknown as SamPromptVectorEnvOptions)).toThrow(
      `SamPromptVectorEnv option 'numEnvs': ${why}`,
    );
  });
});
