/**
 * The prompting env with a random clicker: 4 envs, one batched SAM call per step.
 *
 *   npx ts-node --transpile-only examples/prompt-env.ts
 */
import * as path from 'path';
import { initBackend } from '../src/backend';
import { SyntheticDataset } from '../src/data/synthetic';
import { SamPromptVectorEnv } from '../src/env/prompt';
import { EmbeddingCache, loadSam } from '../src/sam';
import { Rng } from '../src/utils/rng';

async function main(): Promise<void> {
  await initBackend('auto');
  const sam = await loadSam(path.join(__dirname, '../../shared/fixtures/sam/tiny/weights.safetensors'));
  const env = new SamPromptVectorEnv({
    numEnvs: 4,
    dataset: new SyntheticDataset({ seed: 0, length: 100 }),
    embeddings: new EmbeddingCache(sam),
    labelSource: 'oracle', // 'recalibration' needs the SRM as labeler; 'agent' lets the action pick the label
    gridSize: 10,
    horizon: 15,
    reward: 'alignsam', // +1 for a click inside the target, -1 outside
  });
  const rng = new Rng(0);
  let { observations } = await env.reset({ seed: 0 });
  let total = 0;
  for (let t = 0; t < 15; t++) {
    const actions = observations.map((o) => {
      const allowed = [...o.actionMask.keys()].filter((a) => o.actionMask[a]);
      return allowed[rng.int(allowed.length)];
    });
    const step = await env.step(actions);
    total += step.rewards.reduce((a, b) => a + b, 0);
    observations = step.observations;
    if (step.truncated[0])
      console.log(
        `episode done: mean return ${(total / 4).toFixed(2)}, IoU ${(step.infos[0].final_info as { iou: number }).iou.toFixed(3)}`,
      );
  }
  await env.close();
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
