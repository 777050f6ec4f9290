/**
 * Samples that cannot be trained on: an empty target, a target covering the whole image (an RGB
 * photo in masks/), a tiny image, a broken RLE string, a COCO file whose annotations are all crowd.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CocoDataset } from '../../src/data/coco';
import { createDataset } from '../../src/data/factory';
import { writePng } from '../../src/data/image-io';
import { MaskFolderDataset } from '../../src/data/mask-folder';
import { MIN_IMAGE_SIDE } from '../../src/data/types';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-samples-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const W = 8;
const H = 6;
const rgb = (w = W, h = H) => ({
  width: w,
  height: h,
  data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256),
});
const grey = (values: (i: number) => number, w = W, h = H) => ({
  width: w,
  height: h,
  channels: 1 as const,
  data: Uint8Array.from({ length: w * h }, (_, i) => values(i)),
});
const half = (i: number) => (i % W < W / 2 ? 255 : 0);

/** A mask folder with a good pair 'good' and the given bad pairs. */
async function folder(
  bad: Record<string, { image?: ReturnType<typeof rgb>; mask: ReturnType<typeof grey> | ReturnType<typeof rgb> }>,
): Promise<string> {
  await writePng(path.join(tmp, 'images', 'good.png'), rgb());
  await writePng(path.join(tmp, 'masks', 'good.png'), grey(half));
  for (const [name, pair] of Object.entries(bad)) {
    await writePng(path.join(tmp, 'images', `${name}.png`), pair.image ?? rgb());
    await writePng(path.join(tmp, 'masks', `${name}.png`), pair.mask);
  }
  return tmp;
}

describe('mask folders', () => {
  it.each([
    ['an all-zero mask', grey(() => 0), /the target is empty/],
    ['an RGB photo as the mask', rgb(), /the target covers the whole 8x6 image/],
  ])(
    '%s is an error naming the mask file when the data set opens (verify full) or at get (header)',
    async (_, mask, why) => {
      const root = await folder({ bad: { mask } });
      const maskFile = path.join(root, 'masks', 'bad.png');
      await expect(MaskFolderDataset.open({ root, verify: 'full' })).rejects.toThrow(maskFile);
      await expect(MaskFolderDataset.open({ root, verify: 'full' })).rejects.toThrow(why);
      const lazy = await MaskFolderDataset.open({ root });
      await expect(lazy.get(0)).rejects.toThrow(
        new RegExp(`${maskFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${why.source}.*on_bad_sample: skip`),
      );
      expect((await lazy.get(1)).id).toBe('good');
    },
  );

  it('skip mode leaves empty and whole-image targets out and reports each', async () => {
    const root = await folder({ empty: { mask: grey(() => 0) }, photo: { mask: rgb() } });
    const ds = await MaskFolderDataset.open({ root, onBadSample: 'skip' });
    expect(ds.length).toBe(1);
    expect((await ds.get(0)).id).toBe('good');
    expect(
      ds.badSamples.map((b) => [
        path.basename(b.file),
        /empty/.test(b.reason) ? 'empty' : /whole/.test(b.reason) ? 'whole' : b.reason,
      ]),
    ).toEqual([
      ['empty.png', 'empty'],
      ['photo.png', 'whole'],
    ]);
  });

  it('an instance covering the whole image is an error; an image smaller than the minimum is one too, naming the minimum', async () => {
    const root = await folder({ all: { mask: grey(() => 3) } });
    await expect(MaskFolderDataset.open({ root, maskFormat: 'instances', target: 'instance' })).rejects.toThrow(
      /all\.png: instance 3: the target covers the whole/,
    );
    fs.rmSync(path.join(root, 'masks', 'all.png'));
    fs.rmSync(path.join(root, 'images', 'all.png'));
    await writePng(path.join(root, 'images', 'dot.png'), rgb(1, 1));
    await writePng(
      path.join(root, 'masks', 'dot.png'),
      grey(() => 1, 1, 1),
    );
    await expect(MaskFolderDataset.open({ root })).rejects.toThrow(
      `${path.join(root, 'images', 'dot.png')}: image is 1x1 pixels, smaller than the minimum of ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE}`,
    );
    const skipping = await MaskFolderDataset.open({ root, onBadSample: 'skip' });
    expect(skipping.length).toBe(1);
    expect(skipping.badSamples[0].reason).toMatch(/smaller than the minimum/);
  });
});

describe('COCO', () => {
  const square = [[1, 1, 5, 1, 5, 4, 1, 4]];
  async function coco(
    annotations: object[],
    images: Array<{ id: number; w?: number; h?: number }> = [{ id: 1 }, { id: 2 }],
  ): Promise<string> {
    for (const im of images) await writePng(path.join(tmp, 'images', `${im.id}.png`), rgb(im.w ?? W, im.h ?? H));
    const file = path.join(tmp, 'ann.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        images: images.map((im) => ({ id: im.id, file_name: `${im.id}.png`, width: im.w ?? W, height: im.h ?? H })),
        annotations,
        categories: [{ id: 1, name: 'box' }],
      }),
    );
    return file;
  }
  const ann = (id: number, imageId: number, segmentation: unknown, iscrowd = 0) => ({
    id,
    image_id: imageId,
    category_id: 1,
    segmentation,
    iscrowd,
    area: 12,
  });

  it('a broken RLE string is an error when the data set opens, naming the file and the annotation', async () => {
    const file = await coco([ann(10, 1, square), ann(11, 2, { size: [H, W], counts: '!!~~' })]);
    await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(
      new RegExp(`${path.basename(file)}: annotation id 11 segmentation\\.counts`),
    );
    const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
    expect(skipping.length).toBe(1);
    expect(skipping.badSamples[0].reason).toMatch(/annotation id 11/);
  });

  it.each([
    ['empty', { size: [H, W], counts: [W * H] }, /the target is empty/],
    ['whole-image', { size: [H, W], counts: [0, W * H] }, /the target covers the whole 8x6 image/],
  ])(
    'an %s target is an error naming the file, the image and the annotation; skip reports it',
    async (_, segmentation, why) => {
      const file = await coco([ann(10, 1, square), ann(11, 2, segmentation)]);
      await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(
        new RegExp(`ann\\.json: image id 2 \\(2\\.png\\), annotation id 11: ${why.source}.*on_bad_sample: skip`),
      );
      const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
      expect(skipping.length).toBe(1);
      expect(skipping.badSamples[0].reason).toMatch(why);
    },
  );

  it('an image smaller than the minimum is an error naming the minimum', async () => {
    const file = await coco(
      [ann(10, 1, square), ann(11, 2, { size: [2, 2], counts: [1, 2, 1] })],
      [{ id: 1 }, { id: 2, w: 2, h: 2 }],
    );
    await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(
      `image is 2x2 pixels, smaller than the minimum of ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE}`,
    );
  });

  it('when only crowd annotations remain, the empty split says how many were left out as crowd and names skip_crowd', async () => {
    const file = await coco([ann(10, 1, square, 1), ann(11, 2, square, 1)]);
    expect((await CocoDataset.open({ annotationFile: file })).crowdSkipped).toBe(2);
    await expect(
      createDataset({ type: 'coco', annotations: file, split: 'train' }, { prefix: 'data (coco, train split)' }),
    ).rejects.toThrow(
      /data \(coco, train split\): the train split is empty; 2 annotations of .*ann\.json were left out as crowd regions \(iscrowd: 1\) because skip_crowd is true/,
    );
    await expect(createDataset({ type: 'coco', annotations: file })).rejects.toThrow(
      /the data set is empty; 2 annotations/,
    );
    // Crowd regions may be used on request (as polygons here, so they rasterise like any other).
    expect((await createDataset({ type: 'coco', annotations: file, skipCrowd: false })).length).toBe(2);
  });
});
