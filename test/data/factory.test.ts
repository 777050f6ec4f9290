import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createDataset } from '../../src/data/factory';
import { writePng } from '../../src/data/image-io';
import { SyntheticDataset } from '../../src/data/synthetic';

const COCO_DIR = path.resolve(__dirname, '../../../shared/data/coco_tiny_val2017');

describe('createDataset', () => {
  it('builds synthetic data sets and their splits', async () => {
    const all = await createDataset({ type: 'synthetic', seed: 3, length: 40, imageSize: 64 });
    expect(all).toBeInstanceOf(SyntheticDataset);
    expect(all.length).toBe(40);
    const s = await all.get(0);
    expect([s.width, s.height]).toEqual([64, 64]);
    const val = await createDataset({ type: 'synthetic', seed: 3, length: 40, imageSize: 64, split: 'val', limit: 5 });
    expect(val.length).toBe(5);
    expect((await val.get(0)).id).not.toBe(s.id);
    expect(val.name).toContain('/val');
  });

  it('builds COCO data sets with paths relative to baseDir, split and limited', async () => {
    const cfg = { type: 'coco', annotations: 'instances_val2017.json', categories: ['person', 'dog'] };
    const all = await createDataset(cfg, { baseDir: COCO_DIR });
    expect(all.categories).toEqual(['person', 'dog']);
    const parts = await Promise.all(
      (['train', 'val', 'test'] as const).map((split) =>
        createDataset({ ...cfg, split, splitFractions: [0.6, 0.2, 0.2], splitSeed: 1 }, { baseDir: COCO_DIR }),
      ),
    );
    expect(parts.reduce((a, d) => a + d.length, 0)).toBe(all.length);
    expect(parts[1].length).toBe(Math.round(0.2 * all.length));
    const ids = new Set<string>();
    for (const d of parts) for (let i = 0; i < Math.min(d.length, 12); i++) ids.add((await d.get(i)).id);
    expect(ids.size).toBe(parts.reduce((a, d) => a + Math.min(d.length, 12), 0));
    const limited = await createDataset({ ...cfg, limit: 3 }, { baseDir: COCO_DIR });
    expect(limited.length).toBe(3);
  });

  it('builds mask folders', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-'));
    try {
      await writePng(path.join(root, 'imgs', 'x.png'), { width: 4, height: 4, data: new Uint8Array(48).fill(9) });
      await writePng(path.join(root, 'gt', 'x.png'), {
        width: 4,
        height: 4,
        channels: 1,
        data: new Uint8Array(16).fill(1, 0, 6),
      });
      const ds = await createDataset(
        { type: 'folder', root: '.', images: 'imgs', masks: 'gt', targetName: 'blob' },
        { baseDir: root },
      );
      const s = await ds.get(0);
      expect([ds.length, s.targetName, s.mask.reduce((a, v) => a + v, 0)]).toEqual([1, 'blob', 6]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the bad field', async () => {
    const cases: [unknown, RegExp][] = [
      [null, /^data: expected an object with a "type" field/],
      [{}, /^data\.type: required/],
      [{ type: 'pascal' }, /^data\.type: expected one of 'synthetic', 'folder', 'coco', got "pascal"/],
      [{ type: 'synthetic', lenght: 10 }, /^data\.lenght: unknown key \(known: type, split, limit, seed, length/],
      [
        { type: 'synthetic', splitSeed: 1 },
        /^data\.splitSeed: unknown key for synthetic data \(its splits are disjoint index ranges\)/,
      ],
      [{ type: 'synthetic', imageSize: 'big' }, /^data\.imageSize: expected a side in pixels/],
      [{ type: 'synthetic', split: 'dev' }, /^data\.split: expected one of 'train', 'val', 'test', 'all', got "dev"/],
      [{ type: 'synthetic', limit: -1 }, /^data\.limit: expected an integer >= 0, got -1/],
      [{ type: 'folder' }, /^data\.root: required, expected a string/],
      [{ type: 'folder', root: '.', maskFormat: 'rgb' }, /^data\.maskFormat: expected one of 'binary', 'instances'/],
      [{ type: 'folder', root: '.', targetName: 3 }, /^data\.targetName: expected a name or null, got 3/],
      [{ type: 'coco' }, /^data\.annotations: required/],
      [
        { type: 'coco', annotations: 'a.json', splitFractions: [0.5, 0.5] },
        /^data\.splitFractions: expected \[train, val, test\]/,
      ],
      [
        { type: 'coco', annotations: 'a.json', splitFractions: [0.5, 0.5, 0.5] },
        /^data\.splitFractions: must sum to 1/,
      ],
      [{ type: 'coco', annotations: 'a.json', minArea: -4 }, /^data\.minArea: expected a number >= 0, got -4/],
      [
        { type: 'coco', annotations: 'a.json', categories: 'person' },
        /^data\.categories: expected a non-empty list of names/,
      ],
    ];
    for (const [cfg, re] of cases) await expect(createDataset(cfg)).rejects.toThrow(re);
    await expect(createDataset({ type: 'synthetic', seed: 'x' }, { prefix: 'env.data' })).rejects.toThrow(
      /^env\.data\.seed: expected a safe integer/,
    );
  });
});
