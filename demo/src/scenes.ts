/**
 * The page's synthetic scenes: the task of configs/synthetic-ppo.yaml (128-pixel scenes, 1 to 3
 * distractors) with a chosen target shape, from the test split of seed 0, so none of them was a
 * training scene of the default run.
 */
import { syntheticSplit, type SyntheticDataset } from '../../src/data/synthetic';
import type { ShapeName } from '../../src/data/synthetic/shapes';

export const SCENE_SIZE = 128;

const sets = new Map<string, SyntheticDataset>();

export function demoScenes(target: ShapeName): SyntheticDataset {
  let ds = sets.get(target);
  if (!ds) {
    ds = syntheticSplit(
      { seed: 0, length: 1_000_000, imageSize: SCENE_SIZE, targets: [target], distractors: [1, 3] },
      'test',
    );
    sets.set(target, ds);
  }
  return ds;
}
