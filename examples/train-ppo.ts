/**
 * Train PPO on the synthetic task for a short budget, save, resume, export, and run the export with
 * the tfjs-only runtime. Uses the tiny fixture SAM so it runs in a minute or two on a CPU; point
 * `loadSam` at the micro-SAM (models/micro-sam/weights.safetensors) or your own checkpoint for real
 * work, or use `npm start` / `npx alignsam train` for the full pipeline with the SRM and reports.
 *
 *   npx ts-node --transpile-only examples/train-ppo.ts [outDir]
 */
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/backend';
import { SyntheticDataset } from '../src/data/synthetic';
import { SamPromptVectorEnv } from '../src/env/prompt';
import { EmbeddingCache, loadSam } from '../src/sam';
import { PPO, evaluatePolicy, exportPolicy } from '../src/agent';
import { loadExportedPolicy } from '../src/agent/export/policy-export';

async function main(): Promise<void> {
  await initBackend('auto');
  const out = process.argv[2] ?? path.join(os.tmpdir(), `alignsam-example-${process.pid}`);
  const sam = await loadSam(path.join(__dirname, '../../shared/fixtures/sam/tiny/weights.safetensors'));
  const makeEnv = (seed: number) =>
    new SamPromptVectorEnv({
      numEnvs: 4,
      seed,
      dataset: new SyntheticDataset({ seed, length: 64, imageSize: 64, sizeRange: [0.28, 0.42], distractors: [0, 1] }),
      embeddings: new EmbeddingCache(sam),
      labelSource: 'oracle',
      gridSize: 3,
      horizon: 3,
      reward: 'alignsam',
    });
  const env = makeEnv(1);
  const options = {
    seed: 0,
    nSteps: 12,
    batchSize: 48,
    nEpochs: 4,
    learningRate: 2e-3,
    scheduleTimesteps: 960,
    net: { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 },
  };

  const agent = new PPO(env, options);
  await agent.learn({ totalTimesteps: 480 });
  await agent.save(path.join(out, 'checkpoint')); // atomic folder
  const resumed = await PPO.load(path.join(out, 'checkpoint'), { env });
  await resumed.learn({ totalTimesteps: 480, resetNumTimesteps: false }); // continues the same schedule

  const evalEnv = makeEnv(2);
  const { meanReward } = await evaluatePolicy(resumed, evalEnv, 8);
  console.log(`mean return after 960 steps: ${meanReward.toFixed(2)} (returns lie in [-3, 3])`);

  await exportPolicy(resumed, path.join(out, 'export'), { gridSize: 3, labelSource: 'oracle' });
  const runtime = await loadExportedPolicy(path.join(out, 'export')); // imports @tensorflow/tfjs only
  const { observations } = await evalEnv.reset({ seed: 5 });
  console.log(
    `exported policy clicks cells ${Array.from(runtime.act(observations, { deterministic: true })).join(', ')}; files in ${out}`,
  );

  await env.close();
  await evalEnv.close();
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
