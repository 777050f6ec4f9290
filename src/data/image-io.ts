/**
 * Image decoding, resizing and PNG encoding with sharp. Every error from a file names the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { RgbImage } from './types';

// Aliases, not `Math.x`: under jest (a vm context) each global lookup in a hot loop costs ~100x.
const { floor, min } = Math;

/** Describes the input in error messages: the path, or `name` for buffers. */
function label(input: string | Buffer, name?: string): string {
  return name ?? (typeof input === 'string' ? input : '<buffer>');
}

/** A file that cannot be read as an image; the message names the file. */
export class ImageFileError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    what = 'image',
  ) {
    super(`cannot decode ${what} ${file}: ${detail}`);
    this.name = 'ImageFileError';
  }
}

/**
 * Only regular files (or links to them) are read: a FIFO or a character device named as an image
 * would block the reader forever, a folder gives a confusing decoder error.
 */
function checkRegularFile(file: string, what = 'image'): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new ImageFileError(
      file,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message,
      what,
    );
  }
  if (!st.isFile()) {
    const kind = st.isDirectory()
      ? 'a folder'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isSocket()
            ? 'a socket'
            : 'not a file';
    throw new ImageFileError(file, `not a regular file (${kind})`, what);
  }
}

function openSharp(input: string | Buffer, autoOrient = true): sharp.Sharp {
  // failOn 'error': truncated or corrupt pixel data is an error, minor warnings are not.
  return sharp(input, { failOn: 'error', autoOrient });
}

export interface DecodeOptions {
  /** Names a buffer input in errors. */
  name?: string;
  /**
   * Apply the EXIF orientation (default true). COCO annotations refer to the stored pixels (as
   * PIL reads them), so the COCO loader turns it off.
   */
  autoOrient?: boolean;
}

/**
 * Decodes any image sharp reads (JPEG, PNG, WebP, TIFF, GIF, AVIF, ...) to RGB: EXIF orientation
 * applied, alpha dropped, greyscale and palette images expanded to three channels.
 */
export async function decodeImageRgb(input: string | Buffer, options: DecodeOptions = {}): Promise<RgbImage> {
  const name = options.name;
  if (typeof input === 'string') checkRegularFile(input);
  try {
    const { data, info } = await openSharp(input, options.autoOrient ?? true)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: toUint8(data) };
  } catch (err) {
    throw new ImageFileError(label(input, name), (err as Error).message);
  }
}

/** Reads an image file as RGB (see decodeImageRgb). */
export function readImageRgb(file: string, options: Omit<DecodeOptions, 'name'> = {}): Promise<RgbImage> {
  return decodeImageRgb(file, options);
}

/** Width and height (after EXIF orientation unless told not to), from the header only. */
export async function readImageSize(
  file: string,
  options: Omit<DecodeOptions, 'name'> = {},
): Promise<{ width: number; height: number }> {
  checkRegularFile(file);
  try {
    const md = await sharp(file).metadata();
    const oriented = (options.autoOrient ?? true) ? (md.autoOrient ?? md) : md;
    if (!oriented.width || !oriented.height) throw new Error('no width/height in header');
    return { width: oriented.width, height: oriented.height };
  } catch (err) {
    throw new ImageFileError(file, (err as Error).message);
  }
}

/**
 * A mask file as one integer per pixel, row-major. Greyscale masks (8 or 16 bit) give their grey
 * values. Colour masks whose channels are all equal are greyscale too; other colour masks give
 * each distinct colour an id in order of first appearance (raster order), black = 0, so that
 * colour-coded instance masks work as instance ids. Alpha is ignored.
 */
export interface MaskValues {
  width: number;
  height: number;
  values: Uint16Array | Uint8Array | Uint32Array;
  /** How the values were obtained. */
  source: 'grey' | 'colour';
}

export async function readMaskValues(file: string): Promise<MaskValues> {
  checkRegularFile(file, 'mask');
  try {
    const md = await sharp(file).metadata();
    const channels = md.channels ?? 0;
    const sixteen = md.depth === 'ushort';
    if (channels <= 2) {
      // 16-bit values survive only through the grey16 interpretation; other paths scale to 8 bits.
      const pipeline = sixteen
        ? openSharp(file).toColourspace('grey16').raw({ depth: 'ushort' })
        : openSharp(file).extractChannel(0).raw();
      const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
      if (info.channels !== 1) throw new Error(`grey mask decoded to ${info.channels} channels`);
      const n = info.width * info.height;
      const values = sixteen
        ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + 2 * n))
        : toUint8(data);
      return { width: info.width, height: info.height, values, source: 'grey' };
    }
    const { data, info } = await openSharp(file)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    let allGrey = true;
    for (let i = 0; i < n && allGrey; i++) {
      allGrey = data[3 * i] === data[3 * i + 1] && data[3 * i] === data[3 * i + 2];
    }
    if (allGrey) {
      const values = new Uint8Array(n);
      for (let i = 0; i < n; i++) values[i] = data[3 * i];
      return { width: info.width, height: info.height, values, source: 'grey' };
    }
    const ids = new Map<number, number>([[0, 0]]);
    const values = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const key = (data[3 * i] << 16) | (data[3 * i + 1] << 8) | data[3 * i + 2];
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
      }
      values[i] = id;
    }
    return { width: info.width, height: info.height, values, source: 'colour' };
  } catch (err) {
    throw new ImageFileError(file, (err as Error).message, 'mask');
  }
}

export type ResizeFit = 'fill' | 'contain' | 'cover' | 'inside';

/** Resizes an RGB image with sharp (its default lanczos3 kernel). */
export async function resizeRgb(
  image: RgbImage,
  width: number,
  height: number,
  fit: ResizeFit = 'fill',
): Promise<RgbImage> {
  const { data, info } = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: toUint8(data) };
}

/**
 * Nearest-neighbour resize of a row-major single-channel mask (sampling at pixel centres), so
 * label values never blend.
 */
export function resizeMaskNearest<T extends Uint8Array | Uint16Array | Uint32Array>(
  mask: T,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): T {
  if (mask.length !== width * height) {
    throw new Error(`resizeMaskNearest: mask has ${mask.length} values, expected ${width}x${height}`);
  }
  const out = new (mask.constructor as new (n: number) => T)(outWidth * outHeight);
  const xs = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) xs[x] = min(width - 1, floor(((x + 0.5) * width) / outWidth));
  for (let y = 0; y < outHeight; y++) {
    const sy = min(height - 1, floor(((y + 0.5) * height) / outHeight));
    const row = sy * width;
    const orow = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[orow + x] = mask[row + xs[x]];
  }
  return out;
}

/** An image for PNG encoding: 1 (grey), 3 (RGB) or 4 (RGBA) uint8 channels, HWC. */
export interface RawImage {
  width: number;
  height: number;
  channels?: 1 | 3 | 4;
  data: Uint8Array;
}

/** Encodes to PNG. `channels` defaults to 3 (an RgbImage). */
export async function encodePng(image: RawImage): Promise<Buffer> {
  const channels = image.channels ?? 3;
  if (image.data.length !== image.width * image.height * channels) {
    throw new Error(`encodePng: ${image.data.length} bytes for ${image.width}x${image.height}x${channels}`);
  }
  let s = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels },
  });
  if (channels === 1) s = s.toColourspace('b-w');
  return s.png().toBuffer();
}

/** Writes a PNG atomically (temporary file, then rename), creating the folder. */
export async function writePng(file: string, image: RawImage): Promise<void> {
  const png = await encodePng(image);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.promises.writeFile(tmp, png);
  await fs.promises.rename(tmp, file);
}

/** A mask (0/1 or any values, row-major) as a black/white 8-bit image, for pictures. */
export function maskToGrey(mask: Uint8Array, width: number, height: number): RawImage {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = mask[i] ? 255 : 0;
  return { width, height, channels: 1, data };
}

function toUint8(buf: Buffer): Uint8Array {
  // A copy that owns its memory: sharp's buffers may be views into a shared pool.
  return new Uint8Array(buf);
}
