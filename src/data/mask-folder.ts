/**
 * A data set from two folders: `images/` and `masks/`, paired by base name (the file name without
 * its extension; the extensions may differ, e.g. `images/cat1.jpg` + `masks/cat1.png`). A mask
 * may also carry one of MASK_SUFFIXES, as data sets ship them (Penn-Fudan: `FudanPed00001.png` +
 * `FudanPed00001_mask.png`); the exact base name wins when both are present.
 *
 * Masks are read as one integer per pixel (see readMaskValues: 8/16-bit grey, or colour-coded):
 * - `maskFormat: 'binary'`: any non-zero value is foreground.
 * - `maskFormat: 'instances'`: 0 is background, each other value one instance.
 * `ignoreValues` are treated as background in both (e.g. 255, the "void" border of VOC masks).
 *
 * Target per sample:
 * - `target: 'all'`: one sample per image, the target is all foreground.
 * - `target: 'instance'` (needs 'instances'): one sample per instance, in image order then id
 *   order; every mask is decoded at open to count the instances.
 *
 * Target names, in order of precedence: the `targetName` option (a string, or null for an
 * implicit task with no name); else a names file (`namesFile`, or `names.json` in the root when
 * present); else null. A names file is JSON, either one string (every target's name) or:
 *
 *     { "default": "shadow",                      // optional, for images not listed
 *       "images": { "img001": "cat",             // name of every target in img001
 *                   "img002": { "1": "dog", "2": "ball" } } }  // per instance id
 *
 * Per-instance names need `target: 'instance'`. A target with no name gets null.
 *
 * Bad pairs (an image without a mask, an unreadable image or mask, a mask whose size differs from
 * its image, an image smaller than MIN_IMAGE_SIDE, a target that is empty or covers the whole
 * image) throw an error naming the file, or with `onBadSample: 'skip'` are left out and listed in
 * `badSamples`. `verify` sets how much is checked at open: 'header' (existence, sizes from the
 * headers; corrupt pixel data and empty or full targets surface at get) or 'full' (decodes every
 * pair once). 'skip' implies 'full', so that a skipping data set never fails later.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ImageFileError, readImageRgb, readImageSize, readMaskValues, type MaskValues } from './image-io';
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

/** Extensions looked at in images/ and masks/; other files (notes, .DS_Store) are ignored. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif'];

export interface MaskFolderOptions {
  /** Folder holding `images/` and `masks/` (and optionally `names.json`). */
  root: string;
  imagesDir?: string;
  masksDir?: string;
  maskFormat?: 'binary' | 'instances';
  target?: 'all' | 'instance';
  /** A fixed name for every target (null: no name). Overrides any names file. */
  targetName?: string | null;
  namesFile?: string;
  ignoreValues?: number[];
  onBadSample?: OnBadSample;
  verify?: 'header' | 'full';
  name?: string;
}

interface Entry {
  base: string;
  imagePath: string;
  maskPath: string;
  /** Instance id, for target 'instance'. */
  instanceId?: number;
  targetName: string | null;
}

type NameSource = (base: string, instanceId: number | undefined) => string | null;

export class MaskFolderDataset implements SegmentationDataset {
  readonly name: string;
  readonly categories: string[];
  readonly badSamples: BadSampleReport[];
  private readonly entries: Entry[];
  private readonly maskFormat: 'binary' | 'instances';
  private readonly ignore: Set<number>;

  private constructor(
    name: string,
    entries: Entry[],
    badSamples: BadSampleReport[],
    maskFormat: 'binary' | 'instances',
    ignore: Set<number>,
  ) {
    this.name = name;
    this.entries = entries;
    this.badSamples = badSamples;
    this.maskFormat = maskFormat;
    this.ignore = ignore;
    const names = new Set<string>();
    for (const e of entries) if (e.targetName !== null) names.add(e.targetName);
    this.categories = [...names].sort();
  }

  get length(): number {
    return this.entries.length;
  }

  static async open(options: MaskFolderOptions): Promise<MaskFolderDataset> {
    const root = options.root;
    const imagesDir = options.imagesDir ?? path.join(root, 'images');
    const masksDir = options.masksDir ?? path.join(root, 'masks');
    const maskFormat = options.maskFormat ?? 'binary';
    const target = options.target ?? 'all';
    const onBad = options.onBadSample ?? 'error';
    const verify = onBad === 'skip' ? 'full' : (options.verify ?? 'header');
    const ignore = new Set(options.ignoreValues ?? []);
    if (target === 'instance' && maskFormat !== 'instances') {
      throw new Error(`mask folder ${root}: target 'instance' needs maskFormat 'instances'`);
    }
    const names = loadNames(options, target);

    const images = listByBase(imagesDir);
    const masks = listByBase(masksDir);
    const bad: BadSampleReport[] = [];
    const report = (file: string, reason: string): void => {
      if (onBad === 'error') throw new Error(`${file}: ${reason}`);
      bad.push({ file, reason });
    };

    const entries: Entry[] = [];
    for (const [base, imagePath] of images) {
      const maskPath = maskFor(masks, base);
      if (maskPath === undefined) {
        report(
          imagePath,
          `no mask named ${base}.* in ${masksDir} (nor ${MASK_SUFFIXES.map((s) => `${base}${s}.*`).join(', ')})`,
        );
        continue;
      }
      const checked = await checkPair(imagePath, maskPath, verify === 'full' || target === 'instance', report);
      if (!checked) continue;
      if (target === 'all') {
        const problem = checked.mask
          ? targetProblem(foregroundArea(checked.mask, ignore), checked.mask.width, checked.mask.height)
          : null;
        if (problem) report(maskPath, `${problem}; ${SKIP_HINT}`);
        else entries.push({ base, imagePath, maskPath, targetName: names(base, undefined) });
        continue;
      }
      const mask = checked.mask!;
      for (const [id, area] of instanceAreas(mask, ignore)) {
        const problem = targetProblem(area, mask.width, mask.height);
        if (problem) report(maskPath, `instance ${id}: ${problem}; ${SKIP_HINT}`);
        else entries.push({ base, imagePath, maskPath, instanceId: id, targetName: names(base, id) });
      }
    }
    return new MaskFolderDataset(
      options.name ?? `folder:${path.basename(path.resolve(root))}`,
      entries,
      bad,
      maskFormat,
      ignore,
    );
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    const e = this.entries[index];
    const [image, maskValues] = await Promise.all([readImageRgb(e.imagePath), readMaskValues(e.maskPath)]);
    if (maskValues.width !== image.width || maskValues.height !== image.height) {
      throw new Error(`${e.maskPath}: ${sizeMismatch(maskValues, image, e.imagePath)}`);
    }
    const mask = new Uint8Array(image.width * image.height);
    const v = maskValues.values;
    if (e.instanceId !== undefined) {
      for (let i = 0; i < mask.length; i++) mask[i] = v[i] === e.instanceId ? 1 : 0;
    } else {
      for (let i = 0; i < mask.length; i++) mask[i] = v[i] !== 0 && !this.ignore.has(v[i]) ? 1 : 0;
    }
    // In 'header' mode the mask is first decoded here.
    let area = 0;
    for (let i = 0; i < mask.length; i++) area += mask[i];
    const problem = targetProblem(area, image.width, image.height);
    if (problem)
      throw new Error(
        `${e.maskPath}: ${e.instanceId !== undefined ? `instance ${e.instanceId}: ` : ''}${problem}; ${SKIP_HINT}`,
      );
    return {
      id: e.instanceId === undefined ? e.base : `${e.base}#${e.instanceId}`,
      image,
      mask,
      width: image.width,
      height: image.height,
      targetName: e.targetName,
      meta: {
        imagePath: e.imagePath,
        maskPath: e.maskPath,
        ...(e.instanceId !== undefined ? { instanceId: e.instanceId } : {}),
        maskFormat: this.maskFormat,
      },
    };
  }
}

/** Files of a folder by base name, sorted; two files with one base name are an error. */
/** Suffixes a mask's base name may add to its image's. */
export const MASK_SUFFIXES = ['_mask', '-mask', '_gt', '_segmentation'];

function maskFor(masks: Map<string, string>, imageBase: string): string | undefined {
  const exact = masks.get(imageBase);
  if (exact !== undefined) return exact;
  for (const suffix of MASK_SUFFIXES) {
    const m = masks.get(imageBase + suffix);
    if (m !== undefined) return m;
  }
  return undefined;
}

function listByBase(dir: string): Map<string, string> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new Error(`cannot list folder ${dir}: ${(err as Error).message}`);
  }
  const byBase = new Map<string, string>();
  for (const n of names.sort()) {
    if (n.startsWith('.')) continue;
    const ext = path.extname(n).toLowerCase();
    if (!IMAGE_EXTENSIONS.includes(ext)) continue;
    const base = n.slice(0, n.length - ext.length);
    const prev = byBase.get(base);
    if (prev !== undefined) {
      throw new Error(`${path.join(dir, n)}: base name '${base}' also used by ${prev}`);
    }
    byBase.set(base, path.join(dir, n));
  }
  return new Map([...byBase].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * Checks one pair; returns undefined (after reporting) when it is bad. With `decode`, both files
 * are fully decoded and the mask values returned.
 */
async function checkPair(
  imagePath: string,
  maskPath: string,
  decode: boolean,
  report: (file: string, reason: string) => void,
): Promise<{ mask?: MaskValues } | undefined> {
  let imageSize: { width: number; height: number };
  try {
    imageSize = decode ? await readImageRgb(imagePath) : await readImageSize(imagePath);
  } catch (err) {
    report(imagePath, `corrupt or unreadable image: ${detail(err)}`);
    return undefined;
  }
  let maskSize: { width: number; height: number };
  let mask: MaskValues | undefined;
  try {
    if (decode) maskSize = mask = await readMaskValues(maskPath);
    else maskSize = await readImageSize(maskPath);
  } catch (err) {
    report(maskPath, `corrupt or unreadable mask: ${detail(err)}`);
    return undefined;
  }
  if (maskSize.width !== imageSize.width || maskSize.height !== imageSize.height) {
    report(maskPath, sizeMismatch(maskSize, imageSize, imagePath));
    return undefined;
  }
  const tiny = tinyImageProblem(imageSize.width, imageSize.height);
  if (tiny) {
    report(imagePath, tiny);
    return undefined;
  }
  return { mask };
}

function detail(err: unknown): string {
  return err instanceof ImageFileError ? err.detail : (err as Error).message;
}

function sizeMismatch(
  mask: { width: number; height: number },
  image: { width: number; height: number },
  imagePath: string,
): string {
  return `mask is ${mask.width}x${mask.height} but its image ${imagePath} is ${image.width}x${image.height}`;
}

/** Pixels of each instance id, by id. */
function instanceAreas(mask: MaskValues, ignore: Set<number>): Array<[number, number]> {
  const areas = new Map<number, number>();
  for (const v of mask.values) if (v !== 0 && !ignore.has(v)) areas.set(v, (areas.get(v) ?? 0) + 1);
  return [...areas].sort((a, b) => a[0] - b[0]);
}

function foregroundArea(mask: MaskValues, ignore: Set<number>): number {
  let n = 0;
  for (const v of mask.values) if (v !== 0 && !ignore.has(v)) n++;
  return n;
}

/** The name of each target, from the options or a names file (format in the header comment). */
function loadNames(options: MaskFolderOptions, target: 'all' | 'instance'): NameSource {
  if (options.targetName !== undefined) {
    const fixed = options.targetName;
    if (fixed !== null && typeof fixed !== 'string') {
      throw new Error(`mask folder ${options.root}: targetName must be a string or null`);
    }
    return () => fixed;
  }
  let file = options.namesFile;
  if (file === undefined) {
    const candidate = path.join(options.root, 'names.json');
    if (!fs.existsSync(candidate)) return () => null;
    file = candidate;
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read names file ${file}: ${(err as Error).message}`);
  }
  if (typeof json === 'string') return () => json as string;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${file}: expected a string or an object with "default" and/or "images"`);
  }
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'default' && key !== 'images') {
      throw new Error(`${file}: unknown key "${key}" (expected "default" and/or "images")`);
    }
  }
  const fallback = obj.default ?? null;
  if (fallback !== null && typeof fallback !== 'string') {
    throw new Error(`${file}: "default" must be a string`);
  }
  const images = (obj.images ?? {}) as Record<string, unknown>;
  if (typeof images !== 'object' || images === null || Array.isArray(images)) {
    throw new Error(`${file}: "images" must be an object mapping image base names to names`);
  }
  for (const [base, v] of Object.entries(images)) {
    if (typeof v === 'string') continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if (target !== 'instance') {
        throw new Error(`${file}: images.${base} names instances, which needs target 'instance'`);
      }
      for (const [id, n] of Object.entries(v as Record<string, unknown>)) {
        if (!/^[1-9][0-9]*$/.test(id) || typeof n !== 'string') {
          throw new Error(`${file}: images.${base}.${id} must map a positive instance id to a name`);
        }
      }
      continue;
    }
    throw new Error(`${file}: images.${base} must be a name or an object of instance names`);
  }
  return (base, instanceId) => {
    const v = images[base];
    if (typeof v === 'string') return v;
    if (v && instanceId !== undefined) {
      const n = (v as Record<string, string>)[String(instanceId)];
      if (n !== undefined) return n;
    }
    return fallback as string | null;
  };
}
