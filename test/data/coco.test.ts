import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CocoDataset } from '../../src/data/coco';
import { rleFromString, rleToMask } from '../../src/data/coco-mask';
import { writePng } from '../../src/data/image-io';
import { countDiffering } from './helpers/masks';

const COCO_DIR = path.resolve(__dirname, '../../../shared/data/coco_tiny_val2017');
const COCO_JSON = path.join(COCO_DIR, 'instances_val2017.json');

interface Ann {
  id: number;
  image_id: number;
  category_id: number;
  iscrowd: number;
  area: number;
}
const coco = JSON.parse(fs.readFileSync(COCO_JSON, 'utf8')) as {
  images: { id: number; width: number; height: number }[];
  annotations: Ann[];
  categories: { id: number; name: string }[];
};
const golden = new Map(
  (
    JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/coco-tiny-golden.json'), 'utf8')) as {
      annotations: { id: number; counts: string; rleArea: number }[];
    }
  ).annotations.map((g) => [g.id, g]),
);
const catId = (name: string) => coco.categories.find((c) => c.name === name)!.id;
const sum = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

describe('CocoDataset on coco_tiny_val2017', () => {
  it('makes one sample per non-crowd annotation by default, with pycocotools masks', async () => {
    const ds = await CocoDataset.open({ annotationFile: COCO_JSON });
    const nonCrowd = coco.annotations.filter((a) => a.iscrowd === 0);
    expect(ds.length).toBe(nonCrowd.length);
    expect(ds.categories).toHaveLength(80);
    expect(ds.badSamples).toEqual([]);
    for (const index of [0, 100, ds.length - 1]) {
      const s = await ds.get(index);
      const annId = s.meta!.annotationIds![0];
      const ann = coco.annotations.find((a) => a.id === annId)!;
      const im = coco.images.find((i) => i.id === ann.image_id)!;
      expect([s.width, s.height, s.image.data.length]).toEqual([im.width, im.height, im.width * im.height * 3]);
      expect(s.targetName).toBe(coco.categories.find((c) => c.id === ann.category_id)!.name);
      expect(s.id).toBe(`${im.id}:${annId}`);
      const g = golden.get(annId)!;
      expect(countDiffering(s.mask, rleToMask(rleFromString(g.counts, im.height, im.width)))).toBe(0);
      expect(sum(s.mask)).toBe(g.rleArea);
    }
  });

  it('filters categories by name and merges instances per image in category mode', async () => {
    const person = catId('person');
    const anns = coco.annotations.filter((a) => a.category_id === person && a.iscrowd === 0);
    const inst = await CocoDataset.open({ annotationFile: COCO_JSON, categories: ['person'] });
    expect(inst.length).toBe(anns.length);
    expect(inst.categories).toEqual(['person']);
    const cat = await CocoDataset.open({ annotationFile: COCO_JSON, categories: ['person'], mode: 'category' });
    expect(cat.length).toBe(new Set(anns.map((a) => a.image_id)).size);

    // The image with most people: its category sample is the union of its instance samples.
    const counts = new Map<number, number>();
    for (const a of anns) counts.set(a.image_id, (counts.get(a.image_id) ?? 0) + 1);
    const [busiest] = [...counts].sort((x, y) => y[1] - x[1])[0];
    let merged: Uint8Array | undefined;
    for (let i = 0; i < cat.length && !merged; i++) {
      const s = await cat.get(i);
      if (s.meta!.imageId === busiest) merged = s.mask;
    }
    const ids = anns.filter((a) => a.image_id === busiest).map((a) => a.id);
    const im = coco.images.find((i) => i.id === busiest)!;
    const union = new Uint8Array(im.width * im.height);
    for (const id of ids) {
      rleToMask(rleFromString(golden.get(id)!.counts, im.height, im.width)).forEach((v, p) => {
        union[p] |= v;
      });
    }
    expect(ids.length).toBeGreaterThan(3);
    expect(countDiffering(merged!, union)).toBe(0);
    expect(sum(union)).toBeGreaterThan(sum(rleToMask(rleFromString(golden.get(ids[0])!.counts, im.height, im.width))));
  });

  it('applies minArea to the area field and can keep crowd regions', async () => {
    const ds = await CocoDataset.open({ annotationFile: COCO_JSON, minArea: 96 * 96 });
    expect(ds.length).toBe(coco.annotations.filter((a) => a.iscrowd === 0 && a.area >= 96 * 96).length);
    const withCrowd = await CocoDataset.open({ annotationFile: COCO_JSON, skipCrowd: false });
    expect(withCrowd.length).toBe(coco.annotations.length);
  });

  it('names unknown categories and lists the known ones', async () => {
    await expect(CocoDataset.open({ annotationFile: COCO_JSON, categories: ['persn'] })).rejects.toThrow(
      /instances_val2017\.json: no category named "persn" \(known: person, bicycle/,
    );
  });
});

describe('CocoDataset bad inputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-bad-'));
    for (const name of ['a.png', 'b.png']) {
      await writePng(path.join(dir, 'images', name), { width: 8, height: 6, data: new Uint8Array(8 * 6 * 3).fill(90) });
    }
    fs.writeFileSync(path.join(dir, 'images', 'broken.png'), 'not a png');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const square = [[1, 1, 5, 1, 5, 4, 1, 4]];
  function base(): { images: object[]; annotations: object[]; categories: object[] } {
    return {
      images: [
        { id: 1, file_name: 'a.png', width: 8, height: 6 },
        { id: 2, file_name: 'b.png', width: 8, height: 6 },
      ],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, segmentation: square, iscrowd: 0, area: 12 },
        { id: 11, image_id: 2, category_id: 1, segmentation: square, iscrowd: 0, area: 12 },
      ],
      categories: [{ id: 1, name: 'box' }],
    };
  }
  let n = 0;
  function write(json: unknown): string {
    const file = path.join(dir, `ann${n++}.json`);
    fs.writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
    return file;
  }

  it('loads the good base set', async () => {
    const ds = await CocoDataset.open({ annotationFile: write(base()) });
    expect(ds.length).toBe(2);
    const s = await ds.get(0);
    // Polygon (1,1)-(5,4): pixel centres with 1 <= x+0.5 < 5 and 1 <= y+0.5 < 4 -> 4 x 3 pixels.
    expect(sum(s.mask)).toBe(12);
    expect(s.mask[1 * 8 + 1]).toBe(1);
    expect(s.mask[4 * 8 + 1]).toBe(0);
  });

  it('rejects malformed files, naming the file and field', async () => {
    const cases: [unknown, RegExp][] = [
      ['{ nope', /ann\d+\.json: not valid JSON/],
      [{ ...base(), images: 3 }, /ann\d+\.json: images: expected an array/],
      [
        { ...base(), images: [{ id: 1, file_name: 'a.png', width: 0, height: 6 }] },
        /ann\d+\.json: images\[0\]\.width: expected a positive integer, got 0/,
      ],
      [{ ...base(), categories: [{ id: 1 }] }, /ann\d+\.json: categories\[0\]\.name: expected a name/],
    ];
    for (const [json, re] of cases) {
      await expect(CocoDataset.open({ annotationFile: write(json) })).rejects.toThrow(re);
    }
    await expect(CocoDataset.open({ annotationFile: path.join(dir, 'missing.json') })).rejects.toThrow(
      /cannot read COCO annotation file .*missing\.json/,
    );
  });

  it('names bad annotation fields, or skips them with a report', async () => {
    const bads: [object, RegExp][] = [
      [{ image_id: 99 }, /annotations\[1\]\.image_id: no image with id 99/],
      [{ category_id: 7 }, /annotations\[1\]\.category_id: no category with id 7/],
      [{ segmentation: [[1, 2, 3, 4]] }, /annotations\[1\]\.segmentation\[0\]: a polygon needs an even number/],
      [{ segmentation: { size: [6, 8], counts: 5 } }, /annotations\[1\]\.segmentation\.counts: expected a string/],
      [{ segmentation: { size: [5, 8], counts: [40] } }, /annotations\[1\]\.segmentation\.size: expected \[6, 8\]/],
      [{ iscrowd: 2 }, /annotations\[1\]\.iscrowd: expected 0 or 1, got 2/],
    ];
    for (const [patch, re] of bads) {
      const json = base();
      Object.assign(json.annotations[1], patch);
      const file = write(json);
      await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(re);
      const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
      expect(skipping.length).toBe(1);
      expect(skipping.badSamples).toHaveLength(1);
      expect(skipping.badSamples[0].file).toBe(file);
      expect(skipping.badSamples[0].reason).toMatch(new RegExp(re.source.replace(/^.*?annotations/, 'annotations')));
    }
  });

  it('finds run-length errors inside RLE counts when the data set opens', async () => {
    const json = base();
    Object.assign(json.annotations[1], { segmentation: { size: [6, 8], counts: [40, 3] } });
    const file = write(json);
    await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(
      /ann\d+\.json: annotation id 11 segmentation\.counts: RLE runs sum to 43/,
    );
    const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
    expect(skipping.length).toBe(1);
    expect(skipping.badSamples[0].reason).toMatch(/annotation id 11 .*sum to 43/);
  });

  it('names missing, corrupt and wrongly sized image files', async () => {
    const cases: [object, string, RegExp][] = [
      [{ file_name: 'gone.png' }, 'gone.png', /image file missing \(image id 2\)/],
      [{ file_name: 'broken.png' }, 'broken.png', /corrupt or unreadable image/],
      [{ width: 9 }, 'b.png', /image is 8x6 but the annotation file says 9x6/],
    ];
    for (const [patch, fileName, re] of cases) {
      const json = base();
      Object.assign(json.images[1], patch);
      if ('width' in patch) (json.annotations[1] as { segmentation: unknown }).segmentation = [[1, 1, 5, 1, 5, 4]];
      const file = write(json);
      const imagePath = path.join(dir, 'images', fileName);
      await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(`${imagePath}: `);
      await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(re);
      const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
      expect(skipping.length).toBe(1);
      expect(skipping.badSamples).toEqual([{ file: imagePath, reason: expect.stringMatching(re) }]);
    }
  });
});
