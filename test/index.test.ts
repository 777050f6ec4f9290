import * as api from '../src';

test('the public API exports each layer', () => {
  for (const name of [
    'initBackend',
    'loadSam',
    'SamPredictor',
    'EmbeddingCache',
    'SamPromptEnv',
    'SamPromptVectorEnv',
    'SamPromptWorkerVectorEnv',
    'SyntheticDataset',
    'CocoDataset',
    'RewardFunction',
    'PPO',
    'DQN',
    'evaluatePolicy',
    'PolicyRuntime',
    'checkEnv',
    'iou',
    'nextOracleClick',
    'readSafetensors',
    'loadPth',
  ]) {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  }
});
