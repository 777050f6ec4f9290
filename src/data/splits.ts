/**
 * Train/validation/test splits of any data set (a seeded permutation of its indices cut by
 * fractions), and views that select or join data sets without copying samples.
 *
 * The synthetic task has its own splits (syntheticSplit: disjoint index ranges of one seed, so a
 * split can be any length); these generic ones suit finite sets such as folders and COCO.
 */
import { Rng } from '../utils/rng';
import { checkIndex, type Sample, type SegmentationDataset } from './types';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.8, val: 0.1, test: 0.1 };

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

/**
 * Cuts a seeded permutation of [0, length): val and test get round(fraction * length) indices,
 * train the rest. Each split's indices are sorted. Same (length, fractions, seed), same split.
 */
export function splitIndices(
  length: number,
  fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS,
  seed = 0,
): SplitIndices {
  if (!Number.isInteger(length) || length < 0) throw new Error(`splitIndices: bad length ${length}`);
  checkFractions(fractions);
  const perm = new Rng(seed).shuffle(Array.from({ length }, (_, i) => i));
  const nVal = Math.round(fractions.val * length);
  const nTest = Math.min(length - nVal, Math.round(fractions.test * length));
  const asc = (a: number, b: number) => a - b;
  return {
    val: perm.slice(0, nVal).sort(asc),
    test: perm.slice(nVal, nVal + nTest).sort(asc),
    train: perm.slice(nVal + nTest).sort(asc),
  };
}

export function checkFractions(f: SplitFractions, where = 'split fractions'): void {
  const parts = [f?.train, f?.val, f?.test];
  if (parts.some((v) => typeof v !== 'number' || !(v >= 0 && v <= 1))) {
    throw new Error(`${where}: train, val and test must be numbers in [0, 1], got ${JSON.stringify(f)}`);
  }
  const total = parts.reduce((a, v) => a + v, 0);
  if (Math.abs(total - 1) > 1e-9) throw new Error(`${where}: must sum to 1, got ${total}`);
}

/** The samples of `dataset` at `indices`, in that order. */
export class SubsetDataset implements SegmentationDataset {
  readonly name: string;
  readonly categories?: string[];
  private readonly indices: readonly number[];

  constructor(
    readonly source: SegmentationDataset,
    indices: readonly number[],
    name?: string,
  ) {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= source.length) {
        throw new RangeError(`subset of ${source.name}: index ${i} out of range [0, ${source.length})`);
      }
    }
    this.indices = [...indices];
    this.name = name ?? `${source.name}[subset]`;
    this.categories = source.categories;
  }

  get length(): number {
    return this.indices.length;
  }

  /** The source index behind subset index `index`. */
  sourceIndex(index: number): number {
    checkIndex(this, index);
    return this.indices[index];
  }

  async get(index: number): Promise<Sample> {
    return this.source.get(this.sourceIndex(index));
  }
}

export function subset(dataset: SegmentationDataset, indices: readonly number[], name?: string): SubsetDataset {
  return new SubsetDataset(dataset, indices, name);
}

/** The first `n` samples (all when the data set is shorter). */
export function take(dataset: SegmentationDataset, n: number, name?: string): SegmentationDataset {
  if (!Number.isInteger(n) || n < 0) throw new Error(`take: expected a non-negative integer, got ${n}`);
  if (n >= dataset.length) return dataset;
  return subset(
    dataset,
    Array.from({ length: n }, (_, i) => i),
    name ?? `${dataset.name}[:${n}]`,
  );
}

/** Data sets one after another. Sample ids are kept as their sources give them. */
export class ConcatDataset implements SegmentationDataset {
  readonly name: string;
  readonly categories?: string[];
  private readonly starts: number[];
  readonly length: number;

  constructor(
    readonly sources: readonly SegmentationDataset[],
    name?: string,
  ) {
    if (sources.length === 0) throw new Error('concat: needs at least one data set');
    this.name = name ?? sources.map((d) => d.name).join('+');
    this.starts = [];
    let total = 0;
    for (const d of sources) {
      this.starts.push(total);
      total += d.length;
    }
    this.length = total;
    if (sources.every((d) => d.categories)) {
      this.categories = [...new Set(sources.flatMap((d) => d.categories!))];
    }
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    // Last source whose start is <= index (sources may be empty, so skip those).
    let k = this.sources.length - 1;
    while (this.starts[k] > index || this.sources[k].length === 0) k--;
    return this.sources[k].get(index - this.starts[k]);
  }
}

export function concat(datasets: readonly SegmentationDataset[], name?: string): ConcatDataset {
  return new ConcatDataset(datasets, name);
}

/** The three splits of a data set as views named `<name>/train` etc. */
export function splitDataset(
  dataset: SegmentationDataset,
  fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS,
  seed = 0,
): { train: SubsetDataset; val: SubsetDataset; test: SubsetDataset } {
  const idx = splitIndices(dataset.length, fractions, seed);
  return {
    train: subset(dataset, idx.train, `${dataset.name}/train`),
    val: subset(dataset, idx.val, `${dataset.name}/val`),
    test: subset(dataset, idx.test, `${dataset.name}/test`),
  };
}
