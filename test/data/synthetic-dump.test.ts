/**
 * The scene dump that the micro-SAM's PyTorch twin trains from gives back, per scene, what the
 * data set generates: the image, the target mask (through ownership and the target flags) and each
 * object's shape category.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syntheticSplit, type SyntheticConfig } from '../../src/data/synthetic';
import { DUMP_MAX_OBJECTS, dumpSyntheticScenes } from '../../src/data/synthetic-dump';
import type { SceneSpec } from '../../src/data/synthetic/scene';
import { SHAPE_NAMES } from '../../src/data/synthetic/shapes';
import { readSafetensors } from '../../src/io/safetensors';

const CONFIG: SyntheticConfig = { seed: 3, imageSize: 64, distractors: [1, 3], length: 100 };

describe('dumpSyntheticScenes', () => {
  it('writes images, ownership, target flags and shape categories that match the data set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scene-dump-'));
    const out = path.join(dir, 'scenes.safetensors');
    try {
      await dumpSyntheticScenes({ config: CONFIG, split: 'val', start: 5, count: 4, out });
      const { tensors, metadata } = await readSafetensors(out);
      expect(JSON.parse(metadata.categories)).toEqual([...SHAPE_NAMES]);
      expect(metadata.start).toBe('5');
      const bytes = (name: string) => tensors.get(name)!.data as Uint8Array;
      const images = bytes('images');
      const owners = bytes('owners');
      const isTarget = bytes('is_target');
      const categories = bytes('categories');
      expect(tensors.get('categories')!.shape).toEqual([4, DUMP_MAX_OBJECTS]);
      const ds = syntheticSplit(CONFIG, 'val');
      const pixels = 64 * 64;
      let shapesSeen = 0;
      for (let i = 0; i < 4; i++) {
        const sample = ds.sample(5 + i);
        const scene = (sample.meta as { scene: SceneSpec }).scene;
        expect(Array.from(images.subarray(i * pixels * 3, (i + 1) * pixels * 3))).toEqual(
          Array.from(sample.image.data),
        );
        const row = categories.subarray(i * DUMP_MAX_OBJECTS, (i + 1) * DUMP_MAX_OBJECTS);
        expect(row[0]).toBe(0);
        scene.objects.forEach((o, k) => {
          expect(SHAPE_NAMES[row[k + 1] - 1]).toBe(o.placement.shape);
          expect(isTarget[i * DUMP_MAX_OBJECTS + k + 1]).toBe(o.isTarget ? 1 : 0);
          shapesSeen++;
        });
        for (let k = scene.objects.length + 1; k < DUMP_MAX_OBJECTS; k++) expect(row[k]).toBe(0);
        for (let p = 0; p < pixels; p++) {
          const owner = owners[i * pixels + p];
          expect(isTarget[i * DUMP_MAX_OBJECTS + owner]).toBe(sample.mask[p]);
        }
      }
      expect(shapesSeen).toBeGreaterThanOrEqual(8);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
