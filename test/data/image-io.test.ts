import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import {
  decodeImageRgb,
  encodePng,
  readImageRgb,
  readImageSize,
  readMaskValues,
  resizeMaskNearest,
  resizeRgb,
  writePng,
} from '../../src/data/image-io';
import { encodeGrey16Png } from './helpers/png16';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-io-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 4x2 RGB image whose pixel (x, y) is (10x, 100 + 10y, 7). */
function gradient(width = 4, height = 2): Uint8Array {
  const d = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) d.set([10 * x, 100 + 10 * y, 7], (y * width + x) * 3);
  }
  return d;
}

describe('decodeImageRgb', () => {
  it('round-trips an RGB PNG exactly', async () => {
    const data = gradient();
    const png = await encodePng({ width: 4, height: 2, data });
    const img = await decodeImageRgb(png);
    expect(img.width).toBe(4);
    expect(img.height).toBe(2);
    expect(img.data).toEqual(data);
  });

  it('drops alpha and expands greyscale to three channels', async () => {
    const rgba = new Uint8Array([1, 2, 3, 0, 4, 5, 6, 255]);
    const img = await decodeImageRgb(await encodePng({ width: 2, height: 1, channels: 4, data: rgba }));
    expect(Array.from(img.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const grey = await decodeImageRgb(
      await encodePng({ width: 2, height: 1, channels: 1, data: new Uint8Array([9, 200]) }),
    );
    expect(Array.from(grey.data)).toEqual([9, 9, 9, 200, 200, 200]);
  });

  it('applies EXIF orientation', async () => {
    // Orientation 6 = the stored image must be turned 90 degrees clockwise for display.
    // Stored 40x20, its left 10 columns red (blocks, not pixels: JPEG blurs colour).
    const stored = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 10; x++) stored.set([255, 0, 0], (y * 40 + x) * 3);
    const file = path.join(dir, 'rot.jpg');
    await sharp(Buffer.from(stored), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toFile(file);
    expect(await readImageSize(file)).toEqual({ width: 20, height: 40 });
    const img = await readImageRgb(file);
    expect([img.width, img.height]).toEqual([20, 40]);
    // Turned clockwise, the stored left edge becomes the displayed top edge.
    const red = (x: number, y: number) => img.data[(y * 20 + x) * 3];
    expect(red(10, 3)).toBeGreaterThan(200);
    expect(red(10, 36)).toBeLessThan(50);
    expect(red(3, 20)).toBeLessThan(50);
    // Without orientation: the stored pixels.
    expect(await readImageSize(file, { autoOrient: false })).toEqual({ width: 40, height: 20 });
    const stored2 = await readImageRgb(file, { autoOrient: false });
    expect([stored2.width, stored2.height]).toEqual([40, 20]);
    expect(stored2.data[(10 * 40 + 3) * 3]).toBeGreaterThan(200);
  });

  it('names the file when it is not an image or is truncated', async () => {
    const bad = path.join(dir, 'garbage.png');
    fs.writeFileSync(bad, 'this is not an image');
    await expect(readImageRgb(bad)).rejects.toThrow(`cannot decode image ${bad}`);
    await expect(readImageSize(bad)).rejects.toThrow(`cannot decode image ${bad}`);

    const jpg = await sharp(Buffer.from(gradient(64, 64)), { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    const cut = path.join(dir, 'cut.jpg');
    fs.writeFileSync(cut, jpg.subarray(0, jpg.length >> 1));
    await expect(readImageRgb(cut)).rejects.toThrow(`cannot decode image ${cut}`);
    await expect(readImageRgb(path.join(dir, 'missing.png'))).rejects.toThrow(/missing\.png/);
  });
});

describe('readMaskValues', () => {
  it('reads 8-bit grey masks as their values', async () => {
    const file = path.join(dir, 'm8.png');
    await writePng(file, { width: 3, height: 1, channels: 1, data: new Uint8Array([0, 3, 255]) });
    const m = await readMaskValues(file);
    expect(m.source).toBe('grey');
    expect(Array.from(m.values)).toEqual([0, 3, 255]);
  });

  it('reads 16-bit grey masks without scaling', async () => {
    const file = path.join(dir, 'm16.png');
    fs.writeFileSync(file, encodeGrey16Png(new Uint16Array([0, 1, 300, 65535, 7, 0]), 3, 2));
    const m = await readMaskValues(file);
    expect([m.width, m.height]).toEqual([3, 2]);
    expect(Array.from(m.values)).toEqual([0, 1, 300, 65535, 7, 0]);
  });

  it('gives colour masks one id per colour, black = 0, in raster order', async () => {
    const file = path.join(dir, 'mc.png');
    const px = [
      [0, 0, 0],
      [200, 10, 10],
      [10, 200, 10],
      [200, 10, 10],
      [0, 0, 0],
      [5, 5, 250],
    ];
    await writePng(file, { width: 3, height: 2, data: Uint8Array.from(px.flat()) });
    const m = await readMaskValues(file);
    expect(m.source).toBe('colour');
    expect(Array.from(m.values)).toEqual([0, 1, 2, 1, 0, 3]);
  });

  it('reads an RGB file with equal channels as grey', async () => {
    const file = path.join(dir, 'mg.png');
    await writePng(file, { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 4, 4, 4]) });
    expect(Array.from((await readMaskValues(file)).values)).toEqual([0, 4]);
  });

  it('names a corrupt mask file', async () => {
    const bad = path.join(dir, 'badmask.png');
    fs.writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    await expect(readMaskValues(bad)).rejects.toThrow(`cannot decode mask ${bad}`);
  });
});

describe('resizing and writing', () => {
  it('resizes masks by nearest neighbour, keeping label values', () => {
    const m = Uint16Array.from([1, 2, 3, 4]); // 2x2
    expect(Array.from(resizeMaskNearest(m, 2, 2, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(resizeMaskNearest(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 3, 1, 1))).toEqual([5]);
    expect(() => resizeMaskNearest(m, 3, 3, 1, 1)).toThrow(/expected 3x3/);
  });

  it('resizes RGB images to the requested size', async () => {
    const flat = new Uint8Array(8 * 6 * 3).fill(77);
    const out = await resizeRgb({ width: 8, height: 6, data: flat }, 4, 3);
    expect([out.width, out.height, out.data.length]).toEqual([4, 3, 36]);
    expect(out.data.every((v) => v === 77)).toBe(true);
    const inside = await resizeRgb({ width: 8, height: 6, data: flat }, 4, 4, 'inside');
    expect([inside.width, inside.height]).toEqual([4, 3]);
  });

  it('writes PNGs atomically, leaving no temporary file', async () => {
    const file = path.join(dir, 'sub', 'out.png');
    await writePng(file, { width: 4, height: 2, data: gradient() });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['out.png']);
    expect((await readImageRgb(file)).data).toEqual(gradient());
  });
});
