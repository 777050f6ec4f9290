/**
 * PPO learns on the real prompting env: the tiny fixture SAM (random weights, so its embeddings
 * are image-dependent features but its masks are noise), synthetic scenes, and the paper's reward
 * (+1 for a click inside the target, -1 outside). The trained policy's mean return must beat the
 * random clicker's on held-out scenes by a clear margin.
 */
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { evaluatePolicy } from '../../src/agent/evaluate';
import { PPO } from '../../src/agent/ppo/ppo';
import { SyntheticDataset } from '../../src/data/synthetic';
import { SamPromptEnv, SamPromptEnvOptions } from '../../src/env/prompt/sam-prompt-env';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { loadSam } from '../../src/sam/pretrained';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import { SamModel } from '../../src/sam/modeling/sam-model';

let sam: SamModel;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors'));
});
afterAll(() => sam.dispose());

function makeEnvs(n: number, seed: number, embeddings: EmbeddingCache): SamPromptEnv[] {
  const options: SamPromptEnvOptions = {
    dataset: new SyntheticDataset({ seed, length: 64, imageSize: 64, sizeRange: [0.28, 0.42], distractors: [0, 1] }),
    embeddings,
    labelSource: 'oracle',
    gridSize: 3,
    horizon: 3,
    reward: 'alignsam',
  };
  return Array.from({ length: n }, (_, i) => new SamPromptEnv({ ...options, seed: seed * 100 + i }));
}

test('PPO on the tiny SAM beats the random clicker on held-out scenes', async () => {
  const embeddings = new EmbeddingCache(sam, { maxInMemory: 256 });
  const train = makeEnvs(8, 1, embeddings);
  const agent = new PPO(train, {
    seed: 3,
    nSteps: 12,
    batchSize: 48,
    nEpochs: 4,
    learningRate: 2e-3,
    entCoef: 0.0,
    gaeLambda: 0.95,
    net: { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 },
  });
  await agent.learn({ totalTimesteps: 6000 });

  const heldOut = makeEnvs(4, 2, embeddings);
  const trained = await evaluatePolicy(agent, heldOut, 48);
  const random = {
    predict: async (obs: unknown[]) =>
      Int32Array.from(obs as PromptObservation[], (o, i) =>
        heldOut[i].actionSpace.sample(Uint8Array.from(o.actionMask)),
      ),
  };
  const baseline = await evaluatePolicy(random, makeEnvs(4, 2, embeddings), 48);
  console.log(
    `prompting env, tiny SAM: PPO mean return ${trained.meanReward.toFixed(2)} vs random ${baseline.meanReward.toFixed(2)}`,
  );
  // Measured with these seeds on wasm: -1.00 against -1.46 (horizon 3, returns in [-3, 3]). The run
  // is deterministic on a backend; the bound leaves room for another backend's rounding.
  expect(trained.meanReward).toBeGreaterThan(baseline.meanReward + 0.3);
  for (const e of [...train, ...heldOut]) await e.close();
}, 600000);
