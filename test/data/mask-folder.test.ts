import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { writePng } from '../../src/data/image-io';
import { MaskFolderDataset } from '../../src/data/mask-folder';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mask-folder-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const W = 6;
const H = 4;

/** An image whose red channel encodes the pixel index, so tests can see it was read. */
function image(seed: number): Uint8Array {
  const d = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) d.set([i * 10, seed, 50], i * 3);
  return d;
}

/** Instance mask of b: instance 1 in the top-left 2x2, instance 2 in the right column, void 255. */
const B_MASK = Uint8Array.from([1, 1, 0, 0, 0, 2, 1, 1, 0, 0, 0, 2, 0, 0, 0, 255, 0, 2, 0, 0, 0, 0, 0, 2]);
/** Binary mask of a (0/255): the middle two columns. */
const A_MASK = Uint8Array.from(Array.from({ length: W * H }, (_, i) => (i % W === 2 || i % W === 3 ? 255 : 0)));

let seq = 0;
/** A fresh root with images/ and masks/ holding the good pairs a (png+png) and b (jpg+png). */
async function goodRoot(names?: unknown): Promise<string> {
  const root = path.join(tmp, `root${seq++}`);
  await writePng(path.join(root, 'images', 'a.png'), { width: W, height: H, data: image(1) });
  await sharp(Buffer.from(image(2)), { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(path.join(root, 'images', 'b.jpg'));
  await writePng(path.join(root, 'masks', 'a.png'), { width: W, height: H, channels: 1, data: A_MASK });
  await writePng(path.join(root, 'masks', 'b.png'), { width: W, height: H, channels: 1, data: B_MASK });
  fs.writeFileSync(path.join(root, 'images', 'notes.txt'), 'not an image, ignored');
  if (names !== undefined) fs.writeFileSync(path.join(root, 'names.json'), JSON.stringify(names));
  return root;
}

function ones(mask: Uint8Array): number[] {
  const idx: number[] = [];
  mask.forEach((v, i) => v && idx.push(i));
  return idx;
}

describe('MaskFolderDataset', () => {
  it('pairs images and masks by base name; binary masks give all foreground', async () => {
    const ds = await MaskFolderDataset.open({ root: await goodRoot() });
    expect(ds.length).toBe(2);
    const a = await ds.get(0);
    expect(a.id).toBe('a');
    expect([a.width, a.height, a.image.data.length]).toEqual([W, H, W * H * 3]);
    expect(Array.from(a.image.data.slice(0, 6))).toEqual([0, 1, 50, 10, 1, 50]);
    expect(ones(a.mask)).toEqual(ones(A_MASK));
    expect(a.targetName).toBeNull();
    const b = await ds.get(1);
    expect(b.meta?.imagePath).toMatch(/b\.jpg$/);
    expect(ones(b.mask)).toEqual(ones(B_MASK)); // binary: every non-zero value, 255 included
  });

  it('pairs Penn-Fudan style names (x.png + x_mask.png) without renaming; an exact base name wins', async () => {
    const root = path.join(tmp, `root${seq++}`);
    await writePng(path.join(root, 'images', 'FudanPed00001.png'), { width: W, height: H, data: image(1) });
    await writePng(path.join(root, 'masks', 'FudanPed00001_mask.png'), {
      width: W,
      height: H,
      channels: 1,
      data: B_MASK,
    });
    await writePng(path.join(root, 'images', 'p2.png'), { width: W, height: H, data: image(2) });
    await writePng(path.join(root, 'masks', 'p2.png'), { width: W, height: H, channels: 1, data: A_MASK });
    await writePng(path.join(root, 'masks', 'p2_mask.png'), { width: W, height: H, channels: 1, data: B_MASK });
    const ds = await MaskFolderDataset.open({ root, maskFormat: 'instances', target: 'instance', ignoreValues: [255] });
    // FudanPed00001's two instances; p2's mask is A_MASK (only the ignored 255: no instance), so
    // p2.png was paired and not p2_mask.png.
    expect(ds.length).toBe(2);
    const [s0, s1] = [await ds.get(0), await ds.get(1)];
    expect([s0.id, s1.id]).toEqual(['FudanPed00001#1', 'FudanPed00001#2']);
    expect(ones(s0.mask)).toEqual([0, 1, 6, 7]);
    expect(ones(s1.mask)).toEqual([5, 11, 17, 23]);
  });

  it('expands the index over instances, honours ignoreValues and per-instance names', async () => {
    const root = await goodRoot({ default: 'thing', images: { b: { '1': 'dog' } } });
    const ds = await MaskFolderDataset.open({
      root,
      maskFormat: 'instances',
      target: 'instance',
      ignoreValues: [255],
    });
    // a: value 255 is ignored, so a has no instances; b has instances 1 and 2.
    expect(ds.length).toBe(2);
    const s0 = await ds.get(0);
    const s1 = await ds.get(1);
    expect([s0.id, s0.targetName, s0.meta?.instanceId]).toEqual(['b#1', 'dog', 1]);
    expect([s1.id, s1.targetName]).toEqual(['b#2', 'thing']); // no name for 2: the default
    expect(ones(s0.mask)).toEqual([0, 1, 6, 7]);
    expect(ones(s1.mask)).toEqual([5, 11, 17, 23]);
    expect(ds.categories).toEqual(['dog', 'thing']);

    const all = await MaskFolderDataset.open({
      root,
      maskFormat: 'instances',
      ignoreValues: [255],
      targetName: 'any',
    });
    const b = await all.get(1);
    expect(ones(b.mask)).toEqual([0, 1, 5, 6, 7, 11, 17, 23]); // void pixel 15 left out
  });

  it('takes names from a plain-string names file, a fixed option, or null', async () => {
    const root = await goodRoot('shadow');
    expect((await (await MaskFolderDataset.open({ root })).get(0)).targetName).toBe('shadow');
    const fixed = await MaskFolderDataset.open({ root, targetName: 'glass' });
    expect((await fixed.get(1)).targetName).toBe('glass');
    expect(fixed.categories).toEqual(['glass']);
    const none = await MaskFolderDataset.open({ root, targetName: null });
    expect((await none.get(1)).targetName).toBeNull();
  });

  it('rejects bad names files, naming the file and key', async () => {
    const perInstance = await goodRoot({ images: { b: { '1': 'dog' } } });
    await expect(MaskFolderDataset.open({ root: perInstance })).rejects.toThrow(
      /names\.json: images\.b names instances, which needs target 'instance'/,
    );
    const unknown = await goodRoot({ defualt: 'x' });
    await expect(MaskFolderDataset.open({ root: unknown })).rejects.toThrow(/names\.json: unknown key "defualt"/);
    const broken = await goodRoot();
    fs.writeFileSync(path.join(broken, 'names.json'), '{ not json');
    await expect(MaskFolderDataset.open({ root: broken })).rejects.toThrow(/cannot read names file .*names\.json/);
    await expect(MaskFolderDataset.open({ root: broken, targetName: 'x', target: 'instance' })).rejects.toThrow(
      /target 'instance' needs maskFormat 'instances'/,
    );
  });

  describe('bad inputs', () => {
    async function badRoot(): Promise<{ root: string; files: Record<string, string> }> {
      const root = await goodRoot();
      const files = {
        // c has no mask
        c: path.join(root, 'images', 'c.png'),
        // d's mask is 5x4 instead of 6x4
        dMask: path.join(root, 'masks', 'd.png'),
        // e's image is not an image
        e: path.join(root, 'images', 'e.jpg'),
      };
      await writePng(files.c, { width: W, height: H, data: image(3) });
      await writePng(path.join(root, 'images', 'd.png'), { width: W, height: H, data: image(4) });
      await writePng(files.dMask, { width: 5, height: H, channels: 1, data: new Uint8Array(5 * H) });
      fs.writeFileSync(files.e, 'garbage bytes');
      await writePng(path.join(root, 'masks', 'e.png'), { width: W, height: H, channels: 1, data: A_MASK });
      return { root, files };
    }

    it('throws an error naming the file for each kind of problem', async () => {
      const { root, files } = await badRoot();
      await expect(MaskFolderDataset.open({ root })).rejects.toThrow(`${files.c}: no mask named c.* in`);
      fs.rmSync(files.c);
      await expect(MaskFolderDataset.open({ root })).rejects.toThrow(
        `${files.dMask}: mask is 5x4 but its image ${path.join(root, 'images', 'd.png')} is 6x4`,
      );
      fs.rmSync(files.dMask);
      fs.rmSync(path.join(root, 'images', 'd.png'));
      await expect(MaskFolderDataset.open({ root })).rejects.toThrow(`${files.e}: corrupt or unreadable image`);
    });

    it('skip mode leaves bad pairs out and reports file and reason', async () => {
      const { root, files } = await badRoot();
      const ds = await MaskFolderDataset.open({ root, onBadSample: 'skip' });
      expect(ds.length).toBe(2);
      expect((await ds.get(0)).id).toBe('a');
      expect((await ds.get(1)).id).toBe('b');
      expect(ds.badSamples.map((b) => b.file)).toEqual([files.c, files.dMask, files.e]);
      expect(ds.badSamples[0].reason).toMatch(/no mask/);
      expect(ds.badSamples[1].reason).toMatch(/mask is 5x4 but its image .* is 6x4/);
      expect(ds.badSamples[2].reason).toMatch(/corrupt or unreadable image/);
    });

    it('in header mode finds truncated pixel data at get, naming the file', async () => {
      const root = await goodRoot();
      const jpg = path.join(root, 'images', 'b.jpg');
      // A larger, noisy JPEG so that the header is a small part of the file; cut its second half.
      const noise = Uint8Array.from({ length: 96 * 64 * 3 }, (_, i) => (i * 7919) % 251);
      const big = await sharp(Buffer.from(noise), { raw: { width: 96, height: 64, channels: 3 } })
        .jpeg()
        .toBuffer();
      fs.writeFileSync(jpg, big.subarray(0, big.length >> 1));
      await writePng(path.join(root, 'masks', 'b.png'), {
        width: 96,
        height: 64,
        channels: 1,
        data: new Uint8Array(96 * 64),
      });
      const ds = await MaskFolderDataset.open({ root });
      expect(ds.length).toBe(2);
      await expect(ds.get(1)).rejects.toThrow(jpg);
      const skipping = await MaskFolderDataset.open({ root, onBadSample: 'skip' });
      expect(skipping.length).toBe(1);
      expect(skipping.badSamples[0].file).toBe(jpg);
    });

    it('rejects two files with one base name and a missing folder', async () => {
      const root = await goodRoot();
      fs.copyFileSync(path.join(root, 'images', 'b.jpg'), path.join(root, 'images', 'a.jpg'));
      await expect(MaskFolderDataset.open({ root })).rejects.toThrow(/a\.png: base name 'a' also used by .*a\.jpg/);
      await expect(MaskFolderDataset.open({ root: path.join(tmp, 'nope') })).rejects.toThrow(
        /cannot list folder .*nope/,
      );
    });

    it('rejects out-of-range indices', async () => {
      const ds = await MaskFolderDataset.open({ root: await goodRoot() });
      await expect(ds.get(2)).rejects.toThrow(/index 2 out of range \[0, 2\)/);
      await expect(ds.get(-1)).rejects.toThrow(/out of range/);
    });
  });
});
