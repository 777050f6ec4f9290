import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { SyntheticDataset } from '../../src/data/synthetic';
import { SamPromptEnv } from '../../src/env/prompt/sam-prompt-env';
import { LabelSource } from '../../src/env/prompt/action-grid';
import { CentreClicker, OracleClicker, RandomClicker } from '../../src/eval/clickers';
import { evaluate } from '../../src/eval/evaluate';
import { loadSam } from '../../src/sam/pretrained';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import type { SamModel } from '../../src/sam/modeling/sam-model';

const TINY_WEIGHTS = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors');

let sam: SamModel;
let cache: EmbeddingCache;
const data = new SyntheticDataset({ seed: 3, length: 8, imageSize: 64, distractors: [0, 1] });

function makeEnv(labelSource: LabelSource, gridSize = 4, horizon = 5): SamPromptEnv {
  return new SamPromptEnv({
    dataset: data,
    embeddings: cache,
    gridSize,
    horizon,
    labelSource,
    initialPrompts: 'ground-truth',
  });
}

beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(TINY_WEIGHTS);
  cache = new EmbeddingCache(sam, { maxInMemory: 16 });
});

afterAll(() => {
  cache.clear();
  sam.dispose();
});

describe('baseline clickers', () => {
  it('centre clicks the cells nearest the grid centre first, in a fixed order', async () => {
    const env = makeEnv('oracle', 4, 6);
    const report = await evaluate(new CentreClicker(), env, [{ index: 0, seed: 1 }], { pictures: 1 });
    const pts = report.episodes[0].picture!.pointsXY.slice(2 * report.episodes[0].picture!.initialCount);
    const cells = [];
    for (let i = 0; i < pts.length; i += 2) cells.push(env.grid.cellOf(pts[i], pts[i + 1], 64, 64));
    // The four centre cells of a 4 x 4 grid (equally near; lower index first), then their neighbours.
    expect(cells.slice(0, 4)).toEqual([5, 6, 9, 10]);
    expect(new Set(cells).size).toBe(6);
    await env.close();
  });

  it('random is seeded and never repeats a cell', async () => {
    const env = makeEnv('agent', 4, 8);
    const a = await evaluate(new RandomClicker(), env, [{ index: 1, seed: 7 }], { pictures: 1 });
    const b = await evaluate(new RandomClicker(), env, [{ index: 1, seed: 7 }], { pictures: 1 });
    expect(a.episodes[0].picture!.pointsXY).toEqual(b.episodes[0].picture!.pointsXY);
    const pts = a.episodes[0].picture!.pointsXY.slice(4);
    const cells = new Set<number>();
    for (let i = 0; i < pts.length; i += 2) cells.add(env.grid.cellOf(pts[i], pts[i + 1], 64, 64));
    expect(cells.size).toBe(8);
    await env.close();
  });

  it('oracle clicks land on errors and carry the right label (label source agent)', async () => {
    const env = makeEnv('agent', 8, 6);
    const specs = Array.from({ length: 6 }, (_, i) => ({ index: i, seed: 100 + i }));
    const oracle = await evaluate(new OracleClicker(), env, specs);
    const random = await evaluate(new RandomClicker(), env, specs);
    // Labels from the oracle agree with the ground truth at the clicked point; random labels are coin flips.
    expect(oracle.mean.label_accuracy).toBeGreaterThanOrEqual(0.95);
    expect(random.mean.label_accuracy).toBeLessThan(0.8);
    await env.close();
  });
});

describe('evaluate', () => {
  it('gives every policy the same episodes and consistent metrics', async () => {
    const env = makeEnv('oracle', 4, 5);
    const specs = [
      { index: 2, seed: 11 },
      { index: 5, seed: 12 },
      { index: 2, seed: 13 },
    ];
    const before = tf.memory().numTensors;
    const r1 = await evaluate(new CentreClicker(), env, specs, { ks: [1, 3, 5] });
    const r2 = await evaluate(new OracleClicker(), env, specs, { ks: [1, 3, 5] });
    await env.close();
    expect(tf.memory().numTensors).toBe(before);
    for (const r of [r1, r2]) {
      expect(r.episodes.map((e) => e.index)).toEqual([2, 5, 2]);
      for (const e of r.episodes) {
        expect(e.ious).toHaveLength(5);
        expect(e.finalIou).toBe(e.ious[4]);
        expect(e.metrics['iou@3']).toBe(e.ious[2]);
        expect(e.metrics['noc@85']).toBeGreaterThanOrEqual(1);
      }
      expect(r.meanIouCurve).toHaveLength(5);
      expect(r.mean['iou@5']).toBeCloseTo(r.episodes.reduce((a, e) => a + e.ious[4], 0) / 3, 10);
    }
    // Same seeds, same initial prompts: the IoU before any click is the same for both policies.
    expect(r1.episodes.map((e) => e.initialIou)).toEqual(r2.episodes.map((e) => e.initialIou));
    expect(r1.episodes.map((e) => e.sampleId)).toEqual(r2.episodes.map((e) => e.sampleId));
    // Label source oracle: every label is right.
    expect(r1.mean.label_accuracy).toBe(1);
  });

  it('with a count, seeds 0..n-1 choose the samples', async () => {
    const env = makeEnv('oracle', 4, 2);
    const a = await evaluate(new CentreClicker(), env, 3);
    const b = await evaluate(new RandomClicker(), env, 3);
    expect(a.episodes.map((e) => e.sampleId)).toEqual(b.episodes.map((e) => e.sampleId));
    await env.close();
  });
});
