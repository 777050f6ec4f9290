import { initBackend } from '../../../src/backend';
import { ConfigError, resolveConfig } from '../../../src/config/load-config';
import { promptEnvSettings, promptEnvSettingsSchema } from '../../../src/env/prompt/prompt-env-options';
import { SamPromptEnv, type SamPromptEnvOptions } from '../../../src/env/prompt/sam-prompt-env';
import {
  SamPromptWorkerVectorEnv,
  type SamPromptWorkerVectorEnvOptions,
} from '../../../src/env/prompt/sam-prompt-worker-env';
import type { SamModel } from '../../../src/sam/modeling/sam-model';
import { cacheFor, smallSynthetic, tinySam } from './helpers';

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The library's error for one bad setting, or null when the env takes it. */
function libraryError(key: string, value: unknown): string | null {
  try {
    // Settings are checked before anything else is read, so the rest may be left out.
    new SamPromptEnv({ [key]: value } as unknown as SamPromptEnvOptions);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The config's error for the same setting under its config key, or null when the config takes it. */
function configError(key: string, value: unknown): string | null {
  try {
    resolveConfig({ env: { label_source: 'oracle', [snake(key)]: value }, srm: { enabled: false } }, 'x.yaml');
    return null;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.find((i) => i.path === `env.${snake(key)}`)?.message ?? null;
  }
}

const bad: Array<[string, unknown]> = [
  ['gridSize', 0],
  ['gridSize', 65],
  ['gridSize', 2.5],
  ['horizon', 0],
  ['horizon', 101],
  ['labelSource', 'teacher'],
  ['initialPrompts', 'random'],
  ['multimaskOutput', 'sometimes'],
  ['observeLabeler', 'yes'],
  ['maskInput', 1],
];

describe('the env settings are one schema for the library and the config', () => {
  test.each(bad)('%s = %p: both refuse it in the same words', (key, value) => {
    const fromConfig = configError(key, value);
    expect(fromConfig).not.toBeNull();
    expect(libraryError(key, value)).toBe(`SamPromptEnv option '${key}': ${fromConfig}`);
  });

  test("the config's env keys are the settings' names in snake_case, beside the run's own keys", () => {
    const env = resolveConfig({ env: { label_source: 'oracle' }, srm: { enabled: false } }, 'x.yaml').env;
    expect(Object.keys(env)).toEqual([
      ...Object.keys(promptEnvSettings).map(snake),
      'num_envs',
      'vector',
      'workers',
      'embedding_cache',
    ]);
  });

  test('the old config key multimask is read as multimask_output, with a warning naming the file', () => {
    const warnings: string[] = [];
    const config = resolveConfig(
      { env: { label_source: 'oracle', multimask: false }, srm: { enabled: false } },
      'x.yaml',
      { onWarning: (m) => warnings.push(m) },
    );
    expect(config.env.multimask_output).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/^x\.yaml: env\.multimask is read as env\.multimask_output/)]);
  });

  test('the worker env refuses what needs a labeler in the workers before it starts any', async () => {
    const base = { numEnvs: 2, embeddings: {} as SamPromptWorkerVectorEnvOptions['embeddings'], labeler: undefined };
    const env = { checkpoint: 'none', cacheDir: 'none', data: {} };
    await expect(
      SamPromptWorkerVectorEnv.create({
        ...base,
        env: { ...env, observeLabeler: true } as SamPromptWorkerVectorEnvOptions['env'],
      }),
    ).rejects.toThrow(
      'SamPromptWorkerVectorEnv: observeLabeler needs the labeler in the workers, which run none; use SamPromptVectorEnv',
    );
    await expect(
      SamPromptWorkerVectorEnv.create({ ...base, env: { ...env, labelSource: 'agent', horizon: 0 } }),
    ).rejects.toThrow("SamPromptWorkerVectorEnv option 'horizon': expected an integer in [1, 100], got 0");
  });
});

describe('defaults come from the schema', () => {
  let sam: SamModel;
  beforeAll(async () => {
    await initBackend('wasm');
    sam = await tinySam();
  });
  afterAll(() => sam.dispose());

  test('an env given no settings has the schema defaults, and shows no labeler scores', async () => {
    const labeler = { labelClicks: async () => [], scoreCells: async () => [new Float32Array(100)] };
    const env = new SamPromptEnv({ dataset: smallSynthetic(), embeddings: cacheFor(sam), labeler });
    expect(env.settings).toEqual(promptEnvSettingsSchema.parse({}));
    expect(env.settings).toMatchObject({
      gridSize: 10,
      horizon: 15,
      labelSource: 'recalibration',
      observeLabeler: false,
      multimaskOutput: 'single-point',
      maskInput: true,
    });
    const { observation } = await env.reset({ seed: 0 });
    expect(observation.labelerScores).toBeUndefined();
    await env.close();
  });

  test('observeLabeler without a labeler is refused, naming it', () => {
    expect(
      () =>
        new SamPromptEnv({
          dataset: smallSynthetic(),
          embeddings: cacheFor(sam),
          labelSource: 'oracle',
          observeLabeler: true,
        }),
    ).toThrow(/with initialPrompts 'ground-truth' and observeLabeler needs a labeler/);
  });
});
