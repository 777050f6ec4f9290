import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CocoDataset } from '../../src/data/coco';
import { readImageRgb, readImageSize, readMaskValues, writePng } from '../../src/data/image-io';

/** COCO image entries must name regular files inside the images folder, links resolved. */
describe('CocoDataset image paths', () => {
  let dir: string;
  const png = { width: 8, height: 6, data: new Uint8Array(8 * 6 * 3).fill(90) };
  const square = [[1, 1, 5, 1, 5, 4, 1, 4]];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-paths-'));
    for (const name of ['a.png', 'b.png']) await writePng(path.join(dir, 'images', name), png);
    await writePng(path.join(dir, 'other', 'secret.png'), png);
    fs.symlinkSync(path.join('..', 'other', 'secret.png'), path.join(dir, 'images', 'link-out.png'));
    fs.symlinkSync('a.png', path.join(dir, 'images', 'link-in.png'));
    execFileSync('mkfifo', [path.join(dir, 'images', 'fifo.png')]);
    fs.symlinkSync(path.join(dir, 'images'), path.join(dir, 'images-link'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  function annotations(secondFile: string): string {
    const file = path.join(dir, `ann${n++}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        images: [
          { id: 1, file_name: 'a.png', width: 8, height: 6 },
          { id: 2, file_name: secondFile, width: 8, height: 6 },
        ],
        annotations: [
          { id: 10, image_id: 1, category_id: 1, segmentation: square, iscrowd: 0, area: 12 },
          { id: 11, image_id: 2, category_id: 1, segmentation: square, iscrowd: 0, area: 12 },
        ],
        categories: [{ id: 1, name: 'box' }],
      }),
    );
    return file;
  }

  it.each([
    '../other/secret.png',
    '../../../../../../../../../../etc/passwd',
    'link-out.png',
    '../../../../../../../../no/such/file.png',
  ])('file_name %j leading out of the images folder is refused, naming the annotation', async (fileName) => {
    const file = annotations(fileName);
    const err = await CocoDataset.open({ annotationFile: file }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toContain(file);
    expect(err!.message).toContain('image id 2, annotation id 11');
    expect(err!.message).toContain('outside the images folder');
    const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
    expect(skipping.length).toBe(1);
    expect(skipping.badSamples).toEqual([{ file, reason: expect.stringContaining('outside the images folder') }]);
  });

  it('a link that stays inside the folder, and an images folder that is itself a link, are fine', async () => {
    const ds = await CocoDataset.open({
      annotationFile: annotations('link-in.png'),
      imagesDir: path.join(dir, 'images-link'),
    });
    expect(ds.length).toBe(2);
    expect((await ds.get(1)).width).toBe(8);
  });

  it('a FIFO named as an image is refused at once, not read forever', async () => {
    const file = annotations('fifo.png');
    const t0 = Date.now();
    await expect(CocoDataset.open({ annotationFile: file })).rejects.toThrow(
      /fifo\.png: corrupt or unreadable image \(image id 2\): not a regular file \(a FIFO\)/,
    );
    const skipping = await CocoDataset.open({ annotationFile: file, onBadSample: 'skip' });
    expect(skipping.length).toBe(1);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('an image swapped for a link after open is refused when read', async () => {
    await writePng(path.join(dir, 'images', 'swap.png'), png);
    const ds = await CocoDataset.open({ annotationFile: annotations('swap.png') });
    fs.rmSync(path.join(dir, 'images', 'swap.png'));
    fs.symlinkSync(path.join(dir, 'other', 'secret.png'), path.join(dir, 'images', 'swap.png'));
    await expect(ds.get(1)).rejects.toThrow(/image id 2, annotation id 11: .*outside the images folder/);
  });

  it('the image readers read only regular files', async () => {
    const fifo = path.join(dir, 'images', 'fifo.png');
    await expect(readImageRgb(fifo)).rejects.toThrow(/fifo\.png: not a regular file \(a FIFO\)/);
    await expect(readImageSize(fifo)).rejects.toThrow(/not a regular file \(a FIFO\)/);
    await expect(readMaskValues(fifo)).rejects.toThrow(/cannot decode mask .*fifo\.png: not a regular file/);
    await expect(readImageRgb(dir)).rejects.toThrow(/not a regular file \(a folder\)/);
    await expect(readImageSize('/dev/null')).rejects.toThrow(/not a regular file \(a device\)/);
  });
});
