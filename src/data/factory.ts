/**
 * Builds a data set from a plain JSON config (as it comes from YAML), checking every field.
 * Errors name the field by its path (`data.root: ...`), so the config layer can pass its own
 * prefix. Relative paths resolve against `baseDir` (the config file's folder).
 *
 * Common fields, all types:
 *   split: 'train' | 'val' | 'test' | 'all' (default 'all')
 *   limit: keep the first n samples (after the split)
 * synthetic:  the SyntheticConfig fields (see synthetic.ts); splits are disjoint index ranges.
 * folder:     root, images, masks, maskFormat, target, targetName, namesFile, ignoreValues,
 *             onBadSample, verify, name; plus splitFractions [train, val, test] and splitSeed.
 * coco:       annotations, images, categories, mode, minArea, skipCrowd, onBadSample, name;
 *             plus splitFractions and splitSeed.
 */
import * as path from 'path';
import { CocoDataset } from './coco';
import { MaskFolderDataset } from './mask-folder';
import { DEFAULT_SPLIT_FRACTIONS, checkFractions, splitDataset, take, type SplitFractions } from './splits';
import {
  SPLIT_NAMES,
  SyntheticDataset,
  resolveSyntheticConfig,
  syntheticSplit,
  type SyntheticConfig,
} from './synthetic';
import type { SegmentationDataset } from './types';

export type SplitChoice = 'train' | 'val' | 'test' | 'all';

interface CommonConfig {
  split?: SplitChoice;
  limit?: number;
}

export type SyntheticDatasetConfig = CommonConfig & SyntheticConfig & { type: 'synthetic' };

interface FiniteSplitConfig extends CommonConfig {
  /** [train, val, test], summing to 1. Default [0.8, 0.1, 0.1]. */
  splitFractions?: [number, number, number];
  /** Default 0. */
  splitSeed?: number;
}

export interface FolderDatasetConfig extends FiniteSplitConfig {
  type: 'folder';
  root: string;
  images?: string;
  masks?: string;
  maskFormat?: 'binary' | 'instances';
  target?: 'all' | 'instance';
  targetName?: string | null;
  namesFile?: string;
  ignoreValues?: number[];
  onBadSample?: 'error' | 'skip';
  verify?: 'header' | 'full';
  name?: string;
}

export interface CocoDatasetConfig extends FiniteSplitConfig {
  type: 'coco';
  annotations: string;
  images?: string;
  categories?: string[];
  mode?: 'instance' | 'category';
  minArea?: number;
  skipCrowd?: boolean;
  onBadSample?: 'error' | 'skip';
  name?: string;
}

export type DatasetConfig = SyntheticDatasetConfig | FolderDatasetConfig | CocoDatasetConfig;

export interface CreateDatasetOptions {
  /** Folder that relative paths are resolved against. Default: the working directory. */
  baseDir?: string;
  /** Path of the config object in error messages. Default 'data'. */
  prefix?: string;
}

const COMMON_KEYS = ['type', 'split', 'limit'];
const SYNTHETIC_KEYS = [
  'seed',
  'length',
  'imageSize',
  'categories',
  'targets',
  'textures',
  'distractors',
  'sizeRange',
  'camouflage',
  'camouflageContrast',
  'multi',
  'multiCount',
  'multiTarget',
  'minVisible',
  'minContrast',
  'antialias',
  'indexOffset',
  'name',
];
const FINITE_SPLIT_KEYS = ['splitFractions', 'splitSeed'];
const FOLDER_KEYS = [
  'root',
  'images',
  'masks',
  'maskFormat',
  'target',
  'targetName',
  'namesFile',
  'ignoreValues',
  'onBadSample',
  'verify',
  'name',
];
const COCO_KEYS = ['annotations', 'images', 'categories', 'mode', 'minArea', 'skipCrowd', 'onBadSample', 'name'];

/** Field checks that throw `${prefix}.${key}: ...`. */
class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  fail(key: string, msg: string): never {
    throw new Error(`${this.prefix}.${key}: ${msg}, got ${JSON.stringify(this.obj[key])}`);
  }

  allowOnly(keys: string[], why = ''): void {
    for (const k of Object.keys(this.obj)) {
      if (!keys.includes(k)) {
        throw new Error(`${this.prefix}.${k}: unknown key${why} (known: ${keys.join(', ')})`);
      }
    }
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.obj[key];
    if (v === undefined) return required ? this.fail(key, 'required, expected a string') : undefined;
    if (typeof v !== 'string' || v === '') this.fail(key, 'expected a non-empty string');
    return v as string;
  }

  oneOf<T extends string>(key: string, options: readonly T[]): T | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!options.includes(v as T)) this.fail(key, `expected one of ${options.map((o) => `'${o}'`).join(', ')}`);
    return v as T;
  }

  int(key: string, min: number): number | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < min) this.fail(key, `expected an integer >= ${min}`);
    return v as number;
  }

  number(key: string, min: number): number | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) this.fail(key, `expected a number >= ${min}`);
    return v as number;
  }

  boolean(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'expected true or false');
    return v as boolean;
  }

  strings(key: string): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
      this.fail(key, 'expected a non-empty list of names');
    }
    return v as string[];
  }

  ints(key: string): number[] | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => !Number.isSafeInteger(x))) this.fail(key, 'expected a list of integers');
    return v as number[];
  }
}

/** Creates the data set a config describes; see the header for the fields. */
export async function createDataset(config: unknown, options: CreateDatasetOptions = {}): Promise<SegmentationDataset> {
  const prefix = options.prefix ?? 'data';
  const baseDir = options.baseDir ?? process.cwd();
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`${prefix}: expected an object with a "type" field, got ${JSON.stringify(config)}`);
  }
  const obj = config as Record<string, unknown>;
  const f = new Fields(obj, prefix);
  const type = f.oneOf('type', ['synthetic', 'folder', 'coco'] as const);
  if (type === undefined) f.fail('type', "required, expected 'synthetic', 'folder' or 'coco'");
  const split = f.oneOf('split', [...SPLIT_NAMES, 'all'] as const) ?? 'all';
  const limit = f.int('limit', 0);
  const resolve = (p: string) => path.resolve(baseDir, p);

  let dataset: SegmentationDataset;
  if (type === 'synthetic') {
    f.allowOnly(
      [...COMMON_KEYS, ...SYNTHETIC_KEYS],
      FINITE_SPLIT_KEYS.some((k) => k in obj) ? ' for synthetic data (its splits are disjoint index ranges)' : '',
    );
    const { type: _t, split: _s, limit: _l, ...rest } = obj;
    const synth = rest as SyntheticConfig;
    resolveSyntheticConfig(synth, prefix); // field errors with the caller's prefix
    dataset = split === 'all' ? new SyntheticDataset(synth) : syntheticSplit(synth, split);
  } else {
    const fractions = splitFractionsOf(f, obj, prefix);
    const splitSeed = f.int('splitSeed', 0) ?? 0;
    if (type === 'folder') {
      f.allowOnly([...COMMON_KEYS, ...FINITE_SPLIT_KEYS, ...FOLDER_KEYS]);
      const targetName = obj.targetName;
      if (targetName !== undefined && targetName !== null && (typeof targetName !== 'string' || targetName === '')) {
        f.fail('targetName', 'expected a name or null');
      }
      const images = f.string('images');
      const masks = f.string('masks');
      const namesFile = f.string('namesFile');
      dataset = await MaskFolderDataset.open({
        root: resolve(f.string('root', true)),
        imagesDir: images && resolve(images),
        masksDir: masks && resolve(masks),
        maskFormat: f.oneOf('maskFormat', ['binary', 'instances'] as const),
        target: f.oneOf('target', ['all', 'instance'] as const),
        targetName: targetName as string | null | undefined,
        namesFile: namesFile && resolve(namesFile),
        ignoreValues: f.ints('ignoreValues'),
        onBadSample: f.oneOf('onBadSample', ['error', 'skip'] as const),
        verify: f.oneOf('verify', ['header', 'full'] as const),
        name: f.string('name'),
      });
    } else {
      f.allowOnly([...COMMON_KEYS, ...FINITE_SPLIT_KEYS, ...COCO_KEYS]);
      const images = f.string('images');
      dataset = await CocoDataset.open({
        annotationFile: resolve(f.string('annotations', true)),
        imagesDir: images && resolve(images),
        categories: f.strings('categories'),
        mode: f.oneOf('mode', ['instance', 'category'] as const),
        minArea: f.number('minArea', 0),
        skipCrowd: f.boolean('skipCrowd'),
        onBadSample: f.oneOf('onBadSample', ['error', 'skip'] as const),
        name: f.string('name'),
      });
    }
    const whole = dataset;
    if (split !== 'all') dataset = splitDataset(dataset, fractions, splitSeed)[split];
    if (dataset.length === 0 && whole instanceof CocoDataset && whole.crowdSkipped > 0) {
      throw new Error(
        `${prefix}: the ${split === 'all' ? 'data set' : `${split} split`} is empty; ${whole.crowdSkipped} annotations of ${whole.annotationFile} were left out as crowd regions (iscrowd: 1) because skip_crowd is true (data.coco.skip_crowd, skipCrowd in the library): set it to false to use them`,
      );
    }
  }
  return limit === undefined ? dataset : take(dataset, limit);
}

function splitFractionsOf(f: Fields, obj: Record<string, unknown>, prefix: string): SplitFractions {
  const v = obj.splitFractions;
  if (v === undefined) return DEFAULT_SPLIT_FRACTIONS;
  if (!Array.isArray(v) || v.length !== 3) f.fail('splitFractions', 'expected [train, val, test]');
  const [train, val, test] = v as number[];
  const fractions = { train, val, test };
  checkFractions(fractions, `${prefix}.splitFractions`);
  return fractions;
}
