/**
 * The synthetic task, procedural and seeded: scenes of named shapes (star, circle, square,
 * triangle, ring, cross, ellipse, hexagon) with textures (flat, gradient, stripes, checker, noise)
 * on the background and the shapes, distractor shapes of other categories, and two harder
 * variants: camouflage (the target wears the background's texture, moved and slightly shifted in
 * brightness) and multi (several instances of the target's category; the target is all of them or
 * one of them). The target name is the shape's name.
 *
 * Sample `index` is a pure function of (seed, indexOffset + index): each index gets its own RNG
 * derived from both, so samples can be read in any order, by any worker, with the same result.
 *
 * Splits are disjoint index ranges of one seed: `syntheticSplit(config, 'val')` reads global
 * indices from SPLIT_OFFSETS.val on, so train, val and test never share a scene index (each split
 * may hold up to 2^40 samples).
 */
import { Rng } from '../utils/rng';
import { generateScene, renderScene, targetMask, type SceneParams, type SceneSpec } from './synthetic/scene';
import { SHAPE_NAMES, type ShapeName } from './synthetic/shapes';
import { TEXTURE_KINDS, type TextureKind } from './synthetic/textures';
import { checkIndex, type Sample, type SegmentationDataset } from './types';

export interface SyntheticConfig {
  /** Default 0. */
  seed?: number;
  /** Number of samples. Default 1000. */
  length?: number;
  /** Square side, or [width, height], in pixels. Default 128. */
  imageSize?: number | [number, number];
  /** Shapes that appear (targets and distractors). Default: all. */
  categories?: ShapeName[];
  /** Shapes that can be the target (a subset of categories). Default: categories. */
  targets?: ShapeName[];
  /** Textures used. Default: all. */
  textures?: TextureKind[];
  /** Inclusive range of distractor counts. Default [0, 3]. */
  distractors?: [number, number];
  /** Outer radius range as a fraction of the shorter side. Default [0.12, 0.28]. */
  sizeRange?: [number, number];
  /** Probability of a camouflaged scene. Default 0. */
  camouflage?: number;
  /** Camouflage brightness shift, fraction of 255. Default 0.12. */
  camouflageContrast?: number;
  /** Probability of a scene with several target instances. Default 0. */
  multi?: number;
  /** Inclusive range of target instances in a multi scene. Default [2, 3]. */
  multiCount?: [number, number];
  /** In multi scenes, the target is every instance ('all') or one of them ('one'). Default 'all'. */
  multiTarget?: 'all' | 'one';
  /** Fraction of a target instance's pixels that must stay visible. Default 0.5. */
  minVisible?: number;
  /** Least RGB distance of an object's mean colour from the background's. Default 60. */
  minContrast?: number;
  /** Anti-aliased edges (the mask is unaffected). Default true. */
  antialias?: boolean;
  /** First global scene index; set by syntheticSplit. Default 0. */
  indexOffset?: number;
  name?: string;
}

export type ResolvedSyntheticConfig = Required<Omit<SyntheticConfig, 'imageSize' | 'name'>> & {
  width: number;
  height: number;
  name: string;
};

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
export const SPLIT_OFFSETS: Record<SplitName, number> = { train: 0, val: 2 ** 40, test: 2 ** 41 };
const MAX_SPLIT_LENGTH = 2 ** 40;

/**
 * Defaults filled in and every field checked; errors name the field (`${prefix}.field`).
 */
export function resolveSyntheticConfig(config: SyntheticConfig, prefix = 'synthetic'): ResolvedSyntheticConfig {
  const f = (k: string) => `${prefix}.${k}`;
  const fail = (k: string, msg: string, v: unknown): never => {
    throw new Error(`${f(k)}: ${msg}, got ${JSON.stringify(v)}`);
  };
  const int = (k: keyof SyntheticConfig, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
      fail(k, `expected an integer in [${min}, ${max}]`, v);
    }
    return v as number;
  };
  const prob = (k: keyof SyntheticConfig, v: unknown): number => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(k, 'expected a number in [0, 1]', v);
    return v as number;
  };
  const range = (k: keyof SyntheticConfig, v: unknown, isInt: boolean, lo: number, hi: number): [number, number] => {
    const ok =
      Array.isArray(v) &&
      v.length === 2 &&
      v.every((x) => typeof x === 'number' && (!isInt || Number.isInteger(x)) && x >= lo && x <= hi) &&
      v[0] <= v[1];
    if (!ok) fail(k, `expected [min, max] with ${lo} <= min <= max <= ${hi}${isInt ? ', integers' : ''}`, v);
    return v as [number, number];
  };
  const names = <T extends string>(k: keyof SyntheticConfig, v: unknown, allowed: readonly T[]): T[] => {
    if (!Array.isArray(v) || v.length === 0) fail(k, `expected a non-empty list of ${allowed.join(', ')}`, v);
    for (const x of v as unknown[]) {
      if (!allowed.includes(x as T)) fail(k, `unknown name ${JSON.stringify(x)} (known: ${allowed.join(', ')})`, v);
    }
    return [...new Set(v as T[])];
  };

  const seed = config.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) fail('seed', 'expected a safe integer', seed);
  const length = int('length', config.length ?? 1000, 0, MAX_SPLIT_LENGTH);
  let width: number;
  let height: number;
  const size = config.imageSize ?? 128;
  if (typeof size === 'number') {
    width = height = int('imageSize', size, 8, 4096);
  } else if (Array.isArray(size) && size.length === 2) {
    width = int('imageSize', size[0], 8, 4096);
    height = int('imageSize', size[1], 8, 4096);
  } else {
    return fail('imageSize', 'expected a side in pixels or [width, height]', size);
  }
  const categories = names('categories', config.categories ?? [...SHAPE_NAMES], SHAPE_NAMES);
  const targets = names('targets', config.targets ?? categories, SHAPE_NAMES);
  for (const t of targets) {
    if (!categories.includes(t)) fail('targets', `target ${t} is not among the categories`, config.targets);
  }
  const multiTarget = config.multiTarget ?? 'all';
  if (multiTarget !== 'all' && multiTarget !== 'one') fail('multiTarget', "expected 'all' or 'one'", multiTarget);
  const antialias = config.antialias ?? true;
  if (typeof antialias !== 'boolean') fail('antialias', 'expected true or false', antialias);
  const minContrast = config.minContrast ?? 60;
  if (typeof minContrast !== 'number' || !(minContrast >= 0 && minContrast <= 300)) {
    fail('minContrast', 'expected a number in [0, 300]', minContrast);
  }
  const indexOffset = config.indexOffset ?? 0;
  if (!Number.isSafeInteger(indexOffset) || indexOffset < 0) {
    fail('indexOffset', 'expected a non-negative safe integer', indexOffset);
  }
  const name = config.name ?? `synthetic:${seed}`;
  if (typeof name !== 'string') fail('name', 'expected a string', name);
  return {
    seed,
    length,
    width,
    height,
    categories,
    targets,
    textures: names('textures', config.textures ?? [...TEXTURE_KINDS], TEXTURE_KINDS),
    distractors: range('distractors', config.distractors ?? [0, 3], true, 0, 50),
    sizeRange: range('sizeRange', config.sizeRange ?? [0.12, 0.28], false, 0.01, 1),
    camouflage: prob('camouflage', config.camouflage ?? 0),
    camouflageContrast: prob('camouflageContrast', config.camouflageContrast ?? 0.12),
    multi: prob('multi', config.multi ?? 0),
    multiCount: range('multiCount', config.multiCount ?? [2, 3], true, 1, 20),
    multiTarget,
    minVisible: prob('minVisible', config.minVisible ?? 0.5),
    minContrast,
    antialias,
    indexOffset,
    name,
  };
}

/**
 * The RNG of one scene, a function of (seed, global index) only: both are mixed into the four
 * state words (splitmix-style finalisers), then a few outputs are discarded.
 */
export function sceneRng(seed: number, globalIndex: number): Rng {
  const words = [seed % 2 ** 32, Math.floor(seed / 2 ** 32), globalIndex % 2 ** 32, Math.floor(globalIndex / 2 ** 32)];
  let h = 0x243f6a88;
  const state: [number, number, number, number] = [0, 0, 0, 0];
  for (let round = 0; round < 4; round++) {
    for (const w of words) h = mix32((h ^ (w >>> 0)) + 0x9e3779b9 * (round + 1));
    state[round] = h;
  }
  const rng = new Rng(0);
  rng.setState(state);
  for (let i = 0; i < 8; i++) rng.nextUint32();
  return rng;
}

function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class SyntheticDataset implements SegmentationDataset {
  readonly name: string;
  readonly length: number;
  readonly categories: string[];
  readonly config: ResolvedSyntheticConfig;
  private readonly params: SceneParams;

  constructor(config: SyntheticConfig = {}) {
    this.config = resolveSyntheticConfig(config);
    const c = this.config;
    this.name = c.name;
    this.length = c.length;
    this.categories = [...c.targets];
    this.params = {
      width: c.width,
      height: c.height,
      categories: c.categories,
      targets: c.targets,
      textures: c.textures,
      distractors: c.distractors,
      sizeRange: c.sizeRange,
      camouflage: c.camouflage,
      camouflageContrast: c.camouflageContrast,
      multi: c.multi,
      multiCount: c.multiCount,
      multiTarget: c.multiTarget,
      minVisible: c.minVisible,
      minContrast: c.minContrast,
    };
  }

  /** The scene behind sample `index` (plain data). */
  scene(index: number): SceneSpec {
    checkIndex(this, index);
    return generateScene(sceneRng(this.config.seed, this.config.indexOffset + index), this.params).scene;
  }

  /** Synchronous get: generation needs no IO. */
  sample(index: number): Sample {
    checkIndex(this, index);
    const rng = sceneRng(this.config.seed, this.config.indexOffset + index);
    const { scene, rasters } = generateScene(rng, this.params);
    const { image, owner } = renderScene(scene, this.config.antialias, rasters);
    const globalIndex = this.config.indexOffset + index;
    return {
      id: `synthetic:${this.config.seed}:${globalIndex}`,
      image,
      mask: targetMask(scene, owner),
      width: image.width,
      height: image.height,
      targetName: scene.target,
      meta: { seed: this.config.seed, sceneIndex: globalIndex, scene },
    };
  }

  async get(index: number): Promise<Sample> {
    return this.sample(index);
  }
}

/** The train, val or test split of a synthetic task: disjoint global index ranges, one seed. */
export function syntheticSplit(config: SyntheticConfig, split: SplitName): SyntheticDataset {
  if (!SPLIT_NAMES.includes(split)) {
    throw new Error(`split: expected one of ${SPLIT_NAMES.join(', ')}, got ${JSON.stringify(split)}`);
  }
  return new SyntheticDataset({
    ...config,
    indexOffset: SPLIT_OFFSETS[split] + (config.indexOffset ?? 0),
    name: `${config.name ?? `synthetic:${config.seed ?? 0}`}/${split}`,
  });
}
