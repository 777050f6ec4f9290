/**
 * A data set from a COCO instance-segmentation JSON (`images`, `annotations`, `categories`) and a
 * folder of images. Masks come from the annotations' polygons or RLEs, rasterised as pycocotools
 * does (coco-mask.ts). The target name is the category name.
 *
 * - `mode: 'instance'`: one sample per kept annotation.
 * - `mode: 'category'`: one sample per (image, category) with all kept annotations of that
 *   category in the image united.
 * - `categories`: keep only these category names (an unknown name is an error listing the known).
 * - `minArea`: drop annotations whose `area` (COCO's field; the mask's pixel count when absent) is
 *   below it, before merging.
 * - `skipCrowd` (default true): drop `iscrowd: 1` annotations (crowd regions are not objects);
 *   `crowdSkipped` counts them, so that an empty data set or split can say why.
 *
 * Image pixels are read as stored (no EXIF orientation), as the annotations were made on them; the
 * JSON's width and height must match the file. Structure errors name the JSON file and the field
 * (`annotations[12].image_id`). Per-sample problems (a missing or corrupt image, a size mismatch,
 * a malformed annotation or RLE string, an image smaller than MIN_IMAGE_SIDE, a target that is empty
 * or covers the whole image) are errors naming the file, or with `onBadSample: 'skip'` are left out
 * and listed in `badSamples`. Every kept segmentation is parsed at open (as run lengths, without
 * drawing the mask), so no annotation fails mid-training; skipping also decodes every used image at
 * open so later reads cannot fail.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readImageRgb, readImageSize, ImageFileError } from './image-io';
import { rleArea, rleMerge, rleToMask, segmentationToRle } from './coco-mask';
import {
  checkIndex,
  SKIP_HINT,
  targetProblem,
  tinyImageProblem,
  type BadSampleReport,
  type OnBadSample,
  type Sample,
  type SegmentationDataset,
} from './types';

export interface CocoOptions {
  annotationFile: string;
  /** Default: `images/` beside the annotation file. */
  imagesDir?: string;
  categories?: string[];
  mode?: 'instance' | 'category';
  minArea?: number;
  skipCrowd?: boolean;
  onBadSample?: OnBadSample;
  name?: string;
}

interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}
interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: unknown;
  iscrowd: number;
  area?: number;
}
interface CocoCategory {
  id: number;
  name: string;
}

interface CocoEntry {
  image: CocoImage;
  category: CocoCategory;
  annotations: CocoAnnotation[];
}

/**
 * Where an image entry's `file_name` leads: the real path of a file inside the images folder, or
 * why not. Links are resolved first, so neither `../` nor a link can lead out of the folder.
 */
type ImageFile = { ok: true; file: string; shown: string } | { ok: false; where: string; reason: string };

function realImagesDir(imagesDir: string): string {
  try {
    return fs.realpathSync(imagesDir);
  } catch {
    return path.resolve(imagesDir);
  }
}

function locateImage(
  imagesDir: string,
  imagesDirReal: string,
  image: CocoImage,
  annotationFile: string,
  annotationIds: readonly number[],
): ImageFile {
  const given = path.join(imagesDir, image.file_name);
  const what = `image id ${image.id}${annotationIds.length > 0 ? `, annotation id ${annotationIds.slice(0, 3).join(', ')}${annotationIds.length > 3 ? ', ...' : ''}` : ''}`;
  const outside = (target: string): ImageFile => ({
    ok: false,
    where: annotationFile,
    reason: `${what}: file_name ${JSON.stringify(image.file_name.slice(0, 200))} leads to ${target}, outside the images folder ${imagesDirReal}`,
  });
  let real: string;
  try {
    real = fs.realpathSync(path.join(imagesDirReal, image.file_name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // A lexical escape is refused even when its target does not exist.
      const lexical = path.resolve(imagesDirReal, image.file_name);
      if (!isInside(imagesDirReal, lexical)) return outside(lexical);
      return { ok: false, where: given, reason: `image file missing (image id ${image.id})` };
    }
    return { ok: false, where: given, reason: `cannot resolve the image path (${what}): ${(err as Error).message}` };
  }
  if (!isInside(imagesDirReal, real)) return outside(real);
  return { ok: true, file: real, shown: given };
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

export class CocoDataset implements SegmentationDataset {
  readonly name: string;
  readonly categories: string[];
  readonly badSamples: BadSampleReport[];
  readonly annotationFile: string;
  /** Annotations left out because they are crowd regions (skipCrowd). */
  readonly crowdSkipped: number;
  private readonly imagesDir: string;
  private readonly imagesDirReal: string;
  private readonly entries: CocoEntry[];
  private readonly mode: 'instance' | 'category';

  private constructor(
    name: string,
    mode: 'instance' | 'category',
    annotationFile: string,
    imagesDir: string,
    entries: CocoEntry[],
    categories: string[],
    bad: BadSampleReport[],
    crowdSkipped: number,
  ) {
    this.crowdSkipped = crowdSkipped;
    this.name = name;
    this.mode = mode;
    this.annotationFile = annotationFile;
    this.imagesDir = imagesDir;
    this.imagesDirReal = realImagesDir(imagesDir);
    this.entries = entries;
    this.categories = categories;
    this.badSamples = bad;
  }

  get length(): number {
    return this.entries.length;
  }

  static async open(options: CocoOptions): Promise<CocoDataset> {
    const file = options.annotationFile;
    const imagesDir = options.imagesDir ?? path.join(path.dirname(file), 'images');
    const mode = options.mode ?? 'instance';
    const skipCrowd = options.skipCrowd ?? true;
    const minArea = options.minArea ?? 0;
    const onBad = options.onBadSample ?? 'error';
    const bad: BadSampleReport[] = [];
    const report = (where: string, reason: string): void => {
      if (onBad === 'error') throw new Error(`${where}: ${reason}`);
      bad.push({ file: where, reason });
    };

    const json = readJson(file);
    const images = parseImages(json, file);
    const categories = parseCategories(json, file);
    const wanted = selectCategories(categories, options.categories, file);

    // Annotations: structural checks; bad ones reported with file and field.
    const kept: CocoAnnotation[] = [];
    let crowdSkipped = 0;
    const rawAnns = json.annotations;
    if (!Array.isArray(rawAnns)) throw new Error(`${file}: annotations: expected an array`);
    rawAnns.forEach((raw: unknown, i: number) => {
      const where = `annotations[${i}]`;
      const problem = annotationProblem(raw, images, categories);
      if (problem) {
        report(file, `${where}${problem}`);
        return;
      }
      const ann = raw as CocoAnnotation;
      if (!wanted.has(ann.category_id)) return;
      if (skipCrowd && ann.iscrowd === 1) {
        crowdSkipped++;
        return;
      }
      const img = images.get(ann.image_id)!;
      if (minArea > 0) {
        let area = ann.area;
        if (area === undefined) {
          try {
            area = rleArea(segmentationToRle(ann.segmentation, img.height, img.width, `${where}.segmentation`));
          } catch (err) {
            report(file, (err as Error).message);
            return;
          }
        }
        if (area < minArea) return;
      }
      kept.push(ann);
    });

    let entries: CocoEntry[] = [];
    if (mode === 'instance') {
      entries = kept.map((a) => ({
        image: images.get(a.image_id)!,
        category: categories.get(a.category_id)!,
        annotations: [a],
      }));
    } else {
      const groups = new Map<string, CocoEntry>();
      for (const a of kept) {
        const key = `${a.image_id}:${a.category_id}`;
        let g = groups.get(key);
        if (!g) {
          g = { image: images.get(a.image_id)!, category: categories.get(a.category_id)!, annotations: [] };
          groups.set(key, g);
        }
        g.annotations.push(a);
      }
      entries = [...groups.values()];
    }
    // Image order of the JSON, then annotation order: stable and independent of grouping.
    const imageOrder = new Map([...images.keys()].map((id, i) => [id, i]));
    entries.sort((x, y) => imageOrder.get(x.image.id)! - imageOrder.get(y.image.id)!);

    // Image files: each used image checked once (header, or full decode when skipping).
    const checked = new Map<number, boolean>();
    const good: CocoEntry[] = [];
    const imagesDirReal = realImagesDir(imagesDir);
    for (const e of entries) {
      let ok = checked.get(e.image.id);
      if (ok === undefined) {
        const located = locateImage(
          imagesDir,
          imagesDirReal,
          e.image,
          file,
          e.annotations.map((a) => a.id),
        );
        ok = await checkImage(e.image, located, onBad === 'skip', report);
        checked.set(e.image.id, ok);
      }
      if (!ok) continue;
      if (!targetChecks(e, file, report)) continue;
      good.push(e);
    }

    const names = [...categories.values()].filter((c) => wanted.has(c.id)).map((c) => c.name);
    return new CocoDataset(
      options.name ?? `coco:${path.basename(file)}`,
      mode,
      file,
      imagesDir,
      good,
      names,
      bad,
      crowdSkipped,
    );
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    const e = this.entries[index];
    // Located again: the folder may have changed since open (a file swapped for a link).
    const located = locateImage(
      this.imagesDir,
      this.imagesDirReal,
      e.image,
      this.annotationFile,
      e.annotations.map((a) => a.id),
    );
    if (!located.ok) throw new Error(`${located.where}: ${located.reason}`);
    const imagePath = located.shown;
    const image = await readImageRgb(located.file, { autoOrient: false });
    if (image.width !== e.image.width || image.height !== e.image.height) {
      throw new Error(
        `${imagePath}: image is ${image.width}x${image.height} but ${this.annotationFile} says ${e.image.width}x${e.image.height}`,
      );
    }
    let mask: Uint8Array;
    try {
      mask = entryMask(e);
    } catch (err) {
      throw new Error(`${this.annotationFile}: ${(err as Error).message}`);
    }
    const annIds = e.annotations.map((a) => a.id);
    return {
      id: this.mode === 'instance' ? `${e.image.id}:${annIds[0]}` : `${e.image.id}:${e.category.name}`,
      image,
      mask,
      width: image.width,
      height: image.height,
      targetName: e.category.name,
      meta: { imagePath, imageId: e.image.id, annotationIds: annIds, categoryId: e.category.id },
    };
  }
}

/** The entry's mask; errors name the annotation (the caller adds the file). */
function entryMask(e: CocoEntry): Uint8Array {
  const rles = e.annotations.map((a) =>
    segmentationToRle(a.segmentation, e.image.height, e.image.width, `annotation id ${a.id} segmentation`),
  );
  return rleToMask(rleMerge(rles));
}

/**
 * Parses the entry's segmentations (polygons, RLE strings and counts) into run lengths and checks
 * the united target's area; returns false after reporting when it cannot be a sample.
 */
function targetChecks(e: CocoEntry, file: string, report: (where: string, reason: string) => void): boolean {
  let area: number;
  try {
    const rles = e.annotations.map((a) =>
      segmentationToRle(a.segmentation, e.image.height, e.image.width, `annotation id ${a.id} segmentation`),
    );
    area = rleArea(rleMerge(rles));
  } catch (err) {
    report(file, (err as Error).message);
    return false;
  }
  const problem = targetProblem(area, e.image.width, e.image.height);
  if (problem) {
    const ids = e.annotations.map((a) => a.id);
    report(
      file,
      `image id ${e.image.id} (${e.image.file_name}), annotation id ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''}: ${problem}; ${SKIP_HINT}`,
    );
    return false;
  }
  return true;
}

async function checkImage(
  image: CocoImage,
  located: ImageFile,
  decode: boolean,
  report: (where: string, reason: string) => void,
): Promise<boolean> {
  if (!located.ok) {
    report(located.where, located.reason);
    return false;
  }
  const imagePath = located.shown;
  let size: { width: number; height: number };
  try {
    size = decode
      ? await readImageRgb(located.file, { autoOrient: false })
      : await readImageSize(located.file, { autoOrient: false });
  } catch (err) {
    report(
      imagePath,
      `corrupt or unreadable image (image id ${image.id}): ${err instanceof ImageFileError ? err.detail : (err as Error).message}`,
    );
    return false;
  }
  if (size.width !== image.width || size.height !== image.height) {
    report(
      imagePath,
      `image is ${size.width}x${size.height} but the annotation file says ${image.width}x${image.height}`,
    );
    return false;
  }
  const tiny = tinyImageProblem(size.width, size.height);
  if (tiny) {
    report(imagePath, `${tiny} (image id ${image.id})`);
    return false;
  }
  return true;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function readJson(file: string): Record<string, any> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read COCO annotation file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${file}: expected an object with images, annotations and categories`);
  }
  return json as Record<string, unknown>;
}

/** A value for an error message, cut short. */
function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isInt = (v: unknown): v is number => Number.isInteger(v);

function parseImages(json: Record<string, unknown>, file: string): Map<number, CocoImage> {
  if (!Array.isArray(json.images)) throw new Error(`${file}: images: expected an array`);
  const out = new Map<number, CocoImage>();
  json.images.forEach((im: unknown, i: number) => {
    const where = `${file}: images[${i}]`;
    if (im === null || typeof im !== 'object') throw new Error(`${where}: expected an object`);
    const o = im as Record<string, unknown>;
    if (!isInt(o.id)) throw new Error(`${where}.id: expected an integer, got ${show(o.id)}`);
    if (typeof o.file_name !== 'string' || o.file_name === '') {
      throw new Error(`${where}.file_name: expected a file name`);
    }
    for (const k of ['width', 'height'] as const) {
      if (!isPosInt(o[k])) throw new Error(`${where}.${k}: expected a positive integer, got ${show(o[k])}`);
    }
    if (out.has(o.id)) throw new Error(`${where}.id: duplicate image id ${o.id}`);
    out.set(o.id, { id: o.id, file_name: o.file_name, width: o.width as number, height: o.height as number });
  });
  return out;
}

function parseCategories(json: Record<string, unknown>, file: string): Map<number, CocoCategory> {
  if (!Array.isArray(json.categories)) throw new Error(`${file}: categories: expected an array`);
  const out = new Map<number, CocoCategory>();
  json.categories.forEach((c: unknown, i: number) => {
    const where = `${file}: categories[${i}]`;
    if (c === null || typeof c !== 'object') throw new Error(`${where}: expected an object`);
    const o = c as Record<string, unknown>;
    if (!isInt(o.id)) throw new Error(`${where}.id: expected an integer, got ${show(o.id)}`);
    if (typeof o.name !== 'string' || o.name === '') throw new Error(`${where}.name: expected a name`);
    if (out.has(o.id)) throw new Error(`${where}.id: duplicate category id ${o.id}`);
    out.set(o.id, { id: o.id, name: o.name });
  });
  return out;
}

function selectCategories(
  categories: Map<number, CocoCategory>,
  names: string[] | undefined,
  file: string,
): Set<number> {
  if (names === undefined) return new Set(categories.keys());
  const byName = new Map([...categories.values()].map((c) => [c.name, c.id]));
  const out = new Set<number>();
  for (const n of names) {
    const id = byName.get(n);
    if (id === undefined) {
      throw new Error(`${file}: no category named "${n}" (known: ${[...byName.keys()].join(', ')})`);
    }
    out.add(id);
  }
  return out;
}

/** The first structural problem of an annotation, as `.field: reason` (or `: reason`), or null. */
function annotationProblem(
  raw: unknown,
  images: Map<number, CocoImage>,
  categories: Map<number, CocoCategory>,
): string | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return ': expected an object';
  const a = raw as Record<string, unknown>;
  if (!isInt(a.id)) return `.id: expected an integer, got ${show(a.id)}`;
  if (!isInt(a.image_id)) return `.image_id: expected an integer, got ${show(a.image_id)}`;
  if (!images.has(a.image_id)) return `.image_id: no image with id ${a.image_id}`;
  if (!isInt(a.category_id)) return `.category_id: expected an integer, got ${show(a.category_id)}`;
  if (!categories.has(a.category_id)) return `.category_id: no category with id ${a.category_id}`;
  if (a.iscrowd === undefined) a.iscrowd = 0; // absent means not crowd; the parsed JSON is ours
  if (a.iscrowd !== 0 && a.iscrowd !== 1) return `.iscrowd: expected 0 or 1, got ${show(a.iscrowd)}`;
  if (a.area !== undefined && (typeof a.area !== 'number' || !(a.area >= 0))) {
    return `.area: expected a non-negative number, got ${show(a.area)}`;
  }
  const seg = a.segmentation;
  if (Array.isArray(seg)) {
    if (seg.length === 0) return '.segmentation: empty polygon list';
    for (let p = 0; p < seg.length; p++) {
      const poly = seg[p];
      if (!Array.isArray(poly) || poly.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        return `.segmentation[${p}]: a polygon must be an array of finite numbers`;
      }
      if (poly.length < 6 || poly.length % 2 !== 0) {
        return `.segmentation[${p}]: a polygon needs an even number (>= 6) of coordinates, got ${poly.length}`;
      }
    }
    return null;
  }
  if (seg !== null && typeof seg === 'object') {
    const s = seg as Record<string, unknown>;
    const img = images.get(a.image_id)!;
    if (!Array.isArray(s.size) || s.size[0] !== img.height || s.size[1] !== img.width) {
      return `.segmentation.size: expected [${img.height}, ${img.width}] (the image's height, width), got ${show(s.size)}`;
    }
    if (typeof s.counts !== 'string' && !Array.isArray(s.counts)) {
      return '.segmentation.counts: expected a string or an array of run lengths';
    }
    return null;
  }
  return `.segmentation: expected a polygon list or an RLE object, got ${show(seg)}`;
}
