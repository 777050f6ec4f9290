import { concat, splitDataset, splitIndices, subset, take } from '../../src/data/splits';
import type { Sample, SegmentationDataset } from '../../src/data/types';

/** A data set whose sample i has id `${tag}${i}` (no pixels needed here). */
function fake(tag: string, length: number, categories?: string[]): SegmentationDataset {
  return {
    name: tag,
    length,
    categories,
    async get(i: number): Promise<Sample> {
      if (i < 0 || i >= length) throw new RangeError(`${tag}: ${i}`);
      return {
        id: `${tag}${i}`,
        image: { width: 1, height: 1, data: new Uint8Array(3) },
        mask: new Uint8Array(1),
        width: 1,
        height: 1,
        targetName: null,
      };
    },
  };
}

describe('splitIndices', () => {
  it('partitions all indices into disjoint splits of the requested sizes', () => {
    const s = splitIndices(103, { train: 0.7, val: 0.2, test: 0.1 }, 4);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([103 - 21 - 10, 21, 10]);
    const all = [...s.train, ...s.val, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 103 }, (_, i) => i));
    for (const part of [s.train, s.val, s.test]) expect(part).toEqual([...part].sort((a, b) => a - b));
  });

  it('is deterministic in the seed and differs between seeds', () => {
    expect(splitIndices(50, undefined, 9)).toEqual(splitIndices(50, undefined, 9));
    expect(splitIndices(50, undefined, 9).val).not.toEqual(splitIndices(50, undefined, 10).val);
    // Not simply the first or last indices.
    const { val } = splitIndices(50, undefined, 9);
    expect(val).not.toEqual([0, 1, 2, 3, 4]);
    expect(val).not.toEqual([45, 46, 47, 48, 49]);
  });

  it('rejects fractions that are not a partition', () => {
    expect(() => splitIndices(10, { train: 0.8, val: 0.3, test: 0.1 })).toThrow(/must sum to 1, got 1\.2/);
    expect(() => splitIndices(10, { train: 1.2, val: -0.1, test: -0.1 })).toThrow(/numbers in \[0, 1\]/);
  });
});

describe('views', () => {
  it('splitDataset gives named subsets of the source samples', async () => {
    const { train, val, test } = splitDataset(fake('d', 20), { train: 0.5, val: 0.25, test: 0.25 }, 1);
    expect([train.length, val.length, test.length]).toEqual([10, 5, 5]);
    expect(val.name).toBe('d/val');
    const ids = new Set<string>();
    for (const part of [train, val, test]) for (let i = 0; i < part.length; i++) ids.add((await part.get(i)).id);
    expect(ids.size).toBe(20);
    expect((await val.get(0)).id).toBe(`d${val.sourceIndex(0)}`);
  });

  it('subset checks indices; take keeps the first n', async () => {
    const d = fake('d', 5);
    expect(() => subset(d, [0, 5])).toThrow(/subset of d: index 5 out of range \[0, 5\)/);
    const s = subset(d, [4, 1]);
    expect([(await s.get(0)).id, (await s.get(1)).id]).toEqual(['d4', 'd1']);
    await expect(s.get(2)).rejects.toThrow(/out of range/);
    expect(take(d, 10)).toBe(d);
    expect(take(d, 2).length).toBe(2);
  });

  it('concat reads through sources in order, skipping empty ones', async () => {
    const c = concat([fake('a', 2, ['x']), fake('e', 0, []), fake('b', 3, ['y', 'x'])]);
    expect(c.length).toBe(5);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await c.get(i)).id);
    expect(ids).toEqual(['a0', 'a1', 'b0', 'b1', 'b2']);
    expect(c.categories).toEqual(['x', 'y']);
    expect(c.name).toBe('a+e+b');
    await expect(c.get(5)).rejects.toThrow(/a\+e\+b: index 5 out of range/);
  });
});
