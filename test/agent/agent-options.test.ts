import { ConfigError, resolveConfig } from '../../src/config/load-config';
import { DQN, DQNOptions } from '../../src/agent/dqn/dqn';
import { PPO, PPOOptions } from '../../src/agent/ppo/ppo';

/** The config key of each library option (agent.ppo.<key> / agent.dqn.<key>). */
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function configRefuses(algo: 'ppo' | 'dqn', key: string, value: unknown): boolean {
  try {
    resolveConfig({ env: { label_source: 'oracle' }, agent: { algo, [algo]: { [key]: value } } }, 'x.yaml');
    return false;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.some((i) => i.path.startsWith(`agent.${algo}.${key}`));
  }
}

const linear = (start: number, end: number) => ({ type: 'linear' as const, start, end });

const ppoBad: Array<[keyof PPOOptions, unknown]> = [
  ['learningRate', -1],
  ['learningRate', 0],
  ['learningRate', Infinity],
  ['learningRate', linear(-1e-3, 0)],
  ['learningRate', linear(1e-3, -1e-4)],
  ['clipRange', 0],
  ['clipRange', 1.5],
  ['clipRange', linear(0.2, 2)],
  ['clipRangeVf', -0.1],
  ['gamma', 1.5],
  ['gaeLambda', -0.1],
  ['entCoef', -0.01],
  ['entCoef', Infinity],
  ['vfCoef', NaN],
  ['maxGradNorm', Infinity],
  ['targetKl', 0],
  ['adamEps', 0],
  ['nSteps', 1.5],
  ['normalizeAdvantage', 'yes'],
];

const ppoGood: Array<[keyof PPOOptions, unknown]> = [
  ['learningRate', 1e-4],
  ['learningRate', linear(1e-3, 0)],
  ['clipRange', 1],
  ['clipRange', linear(0.3, 0)],
  ['gamma', 0],
  ['gamma', 1],
  ['entCoef', 0],
  ['clipRangeVf', null],
  ['targetKl', null],
];

const dqnBad: Array<[keyof DQNOptions, unknown]> = [
  ['learningRate', -1],
  ['learningRate', 0],
  ['learningRate', linear(1e-3, -1)],
  ['tau', 1.5],
  ['gamma', -0.5],
  ['explorationFraction', 2],
  ['explorationFinalEps', NaN],
  ['maxGradNorm', -1],
  ['maxGradNorm', Infinity],
  ['adamEps', 0],
  ['gradientSteps', -2],
  ['bufferSize', 0],
  ['doubleQ', 1],
  ['saveReplayBuffer', 'no'],
];

const dqnGood: Array<[keyof DQNOptions, unknown]> = [
  ['learningRate', 1e-4],
  ['learningRate', linear(1e-3, 0)],
  ['tau', 0],
  ['tau', 1],
  ['gradientSteps', -1],
  ['learningStarts', 0],
];

describe('agent options agree with the config schema', () => {
  it.each(ppoBad)('PPO refuses %s = %p, naming it, as the config does', (key, value) => {
    expect(configRefuses('ppo', snake(key), value)).toBe(true);
    expect(() => new PPO(null, { [key]: value } as Partial<PPOOptions>)).toThrow(new RegExp(`PPO option '${key}'`));
  });

  it.each(ppoGood)('PPO accepts %s = %p, as the config does', (key, value) => {
    expect(configRefuses('ppo', snake(key), value)).toBe(false);
    new PPO(null, { [key]: value } as Partial<PPOOptions>).dispose();
  });

  it.each(dqnBad)('DQN refuses %s = %p, naming it, as the config does', (key, value) => {
    expect(configRefuses('dqn', snake(key), value)).toBe(true);
    expect(() => new DQN(null, { [key]: value } as Partial<DQNOptions>)).toThrow(new RegExp(`DQN option '${key}'`));
  });

  it.each(dqnGood)('DQN accepts %s = %p, as the config does', (key, value) => {
    expect(configRefuses('dqn', snake(key), value)).toBe(false);
    new DQN(null, { [key]: value } as Partial<DQNOptions>).dispose();
  });
});

describe('the network sizes are one schema for the agents and the config', () => {
  const bad: Array<[string, unknown]> = [
    ['projChannels', 0],
    ['embedConvChannels', [32, 1.5]],
    ['gridConvChannels', []],
    ['valueHidden', 'wide'],
  ];
  test.each(bad)('net.%s = %p: both refuse it in the same words', (key, value) => {
    let fromConfig: string | undefined;
    try {
      resolveConfig({ env: { label_source: 'oracle' }, agent: { net: { [snake(key)]: value } } }, 'x.yaml');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      fromConfig = err.issues.find((i) => i.path.startsWith(`agent.net.${snake(key)}`))?.message;
    }
    expect(fromConfig).toBeDefined();
    expect(() => new PPO(null, { net: { [key]: value } })).toThrow(`PPO option 'net' at ${key}`);
    expect(() => new PPO(null, { net: { [key]: value } })).toThrow(fromConfig);
  });

  test('an unknown network key is refused by the agents', () => {
    expect(() => new DQN(null, { net: { hiddenWidth: 8 } as never })).toThrow(
      /DQN option 'net' at hiddenWidth: unknown key/,
    );
  });
});
