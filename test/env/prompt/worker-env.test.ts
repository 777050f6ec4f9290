import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../../src/backend';
import { SamPromptVectorEnv } from '../../../src/env/prompt/sam-prompt-vector-env';
import { SamPromptWorkerVectorEnv } from '../../../src/env/prompt/sam-prompt-worker-env';
import { SyntheticDataset } from '../../../src/data/synthetic';
import { EmbeddingCache } from '../../../src/sam/embedding-cache';
import { SamModel } from '../../../src/sam/modeling/sam-model';
import { TINY_WEIGHTS, tinySam } from './helpers';

let sam: SamModel;
let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await tinySam();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-env-'));
});
afterAll(() => {
  sam.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('envs sharded over two workers give the same episodes as the same envs in one thread', async () => {
  const data = { type: 'synthetic', seed: 4, length: 5, imageSize: [64, 48] };
  const common = { labelSource: 'agent' as const, gridSize: 4, horizon: 3 };
  const workers = await SamPromptWorkerVectorEnv.create({
    numEnvs: 3,
    numWorkers: 2,
    seed: 9,
    env: { checkpoint: TINY_WEIGHTS, cacheDir: dir, data, backend: 'wasm', ...common },
    embeddings: new EmbeddingCache(sam, { dir }),
  });
  const local = new SamPromptVectorEnv({
    numEnvs: 3,
    seed: 9,
    dataset: new SyntheticDataset({ seed: 4, length: 5, imageSize: [64, 48] }),
    embeddings: new EmbeddingCache(sam),
    autoresetMode: 'same-step',
    ...common,
  });
  try {
    const a = await workers.reset({ seed: 5 });
    const b = await local.reset({ seed: 5 });
    expect(a.infos.map((i) => i.sample_id)).toEqual(b.infos.map((i) => i.sample_id));
    expect(a.observations[1].embedding.tensor.shape).toEqual([8, 8, 32]);
    expect(Array.from(a.observations[1].embedding.tensor.dataSync())).toEqual(
      Array.from(b.observations[1].embedding.tensor.dataSync()),
    );
    for (let t = 0; t < 4; t++) {
      const actions = [t, t + 4, t + 8];
      const x = await workers.step(actions);
      const y = await local.step(actions);
      expect(Array.from(x.rewards)).toEqual(Array.from(y.rewards));
      expect(Array.from(x.truncated)).toEqual(Array.from(y.truncated));
      x.observations.forEach((o, i) => {
        expect(Array.from(o.maskProbs)).toEqual(Array.from(y.observations[i].maskProbs));
        expect(Array.from(o.actionMask)).toEqual(Array.from(y.observations[i].actionMask));
      });
      if (t === 2) {
        const fin = x.infos[0].final_observation as { embedding: { key: string }; stepFraction: number };
        expect(fin.stepFraction).toBe(1);
        expect(fin.embedding.key).toBe((y.infos[0].final_observation as { embedding: { key: string } }).embedding.key);
      }
    }
  } finally {
    await workers.close();
    await local.close();
  }
}, 120000);
