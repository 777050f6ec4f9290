/**
 * Synthetic scenes as one safetensors file, for training outside Node (the micro-SAM's PyTorch
 * twin in scripts/micro-sam-torch reads it): the images, every object's ownership map and which
 * objects make up the scene's target, exactly as `SyntheticDataset` generates them.
 *
 * Tensors: `images` uint8 [N, H, W, 3]; `owners` uint8 [N, H, W] (0 = background, k = the k-th
 * object of the scene, the last one drawn over a pixel owning it); `is_target` uint8 [N, 16]
 * (is_target[n][k] = 1 when object k belongs to scene n's target); `categories` uint8 [N, 16]
 * (categories[n][k] = 1 + the index in `SHAPE_NAMES` of object k's shape, 0 for no object). The
 * metadata names the data set config, the split, the first index and the category names, so a file
 * says which scenes it holds.
 */
import { syntheticSplit, type SplitName, type SyntheticConfig } from './synthetic';
import { ownership, type SceneSpec } from './synthetic/scene';
import { SHAPE_NAMES } from './synthetic/shapes';
import { writeSafetensors } from '../io/safetensors';

export const DUMP_MAX_OBJECTS = 16;

export interface SceneDumpOptions {
  config: SyntheticConfig;
  split: SplitName;
  /** First scene index in the split. */
  start: number;
  count: number;
  out: string;
}

export async function dumpSyntheticScenes(opts: SceneDumpOptions): Promise<void> {
  const ds = syntheticSplit(opts.config, opts.split);
  const { width, height } = ds.config;
  const n = opts.count;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`count: expected a positive integer, got ${n}`);
  const images = new Uint8Array(n * height * width * 3);
  const owners = new Uint8Array(n * height * width);
  const isTarget = new Uint8Array(n * DUMP_MAX_OBJECTS);
  const categories = new Uint8Array(n * DUMP_MAX_OBJECTS);
  for (let i = 0; i < n; i++) {
    const index = opts.start + i;
    const sample = ds.sample(index);
    const scene = (sample.meta as { scene: SceneSpec }).scene;
    if (scene.objects.length >= DUMP_MAX_OBJECTS)
      throw new Error(`scene ${index}: ${scene.objects.length} objects, at most ${DUMP_MAX_OBJECTS - 1} fit`);
    images.set(sample.image.data, i * height * width * 3);
    const owner = ownership(scene);
    owners.set(owner, i * height * width);
    const flags = isTarget.subarray(i * DUMP_MAX_OBJECTS, (i + 1) * DUMP_MAX_OBJECTS);
    scene.objects.forEach((o, k) => {
      flags[k + 1] = o.isTarget ? 1 : 0;
      categories[i * DUMP_MAX_OBJECTS + k + 1] = 1 + SHAPE_NAMES.indexOf(o.placement.shape);
    });
    // The dump must give back the data set's target mask exactly.
    for (let p = 0; p < owner.length; p++) {
      if (sample.mask[p] !== flags[owner[p]])
        throw new Error(`scene ${index}: ownership disagrees with the target mask at pixel ${p}`);
    }
  }
  await writeSafetensors(
    opts.out,
    new Map([
      ['images', { dtype: 'uint8', shape: [n, height, width, 3], data: images }],
      ['owners', { dtype: 'uint8', shape: [n, height, width], data: owners }],
      ['is_target', { dtype: 'uint8', shape: [n, DUMP_MAX_OBJECTS], data: isTarget }],
      ['categories', { dtype: 'uint8', shape: [n, DUMP_MAX_OBJECTS], data: categories }],
    ]),
    {
      data: JSON.stringify(opts.config),
      split: opts.split,
      start: String(opts.start),
      categories: JSON.stringify(SHAPE_NAMES),
    },
  );
}
