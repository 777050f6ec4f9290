import {
  Box,
  CustomSpace,
  Dict,
  Discrete,
  MultiDiscrete,
  TensorRefSpace,
  cloneValue,
  deepEqual,
  registerSpaceType,
  spaceFromJSON,
} from '../../../src/env/spaces';

describe('Discrete', () => {
  it('samples within {start..start+n-1}, covering every value', () => {
    const s = new Discrete(5, 3, 1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = s.sample();
      expect(s.contains(v)).toBe(true);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('honours a mask and returns start for an all-zero mask', () => {
    const s = new Discrete(6, 10, 2);
    const mask = new Uint8Array([0, 1, 0, 0, 1, 0]);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(s.sample(mask));
    expect([...seen].sort()).toEqual([11, 14]);
    expect(s.sample(new Uint8Array(6))).toBe(10);
  });

  it('rejects bad masks with a clear error', () => {
    const s = new Discrete(3);
    expect(() => s.sample(new Uint8Array(4))).toThrow(/length 4, expected 3/);
    expect(() => s.sample(new Uint8Array([0, 2, 1]))).toThrow(/0 or 1/);
    expect(() => s.sample([1, 0, 1] as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });

  it('is reproducible under seed and differs across seeds', () => {
    const a = new Discrete(1000);
    const b = new Discrete(1000);
    a.seed(42);
    b.seed(42);
    const xs = Array.from({ length: 20 }, () => a.sample());
    expect(Array.from({ length: 20 }, () => b.sample())).toEqual(xs);
    b.seed(43);
    expect(Array.from({ length: 20 }, () => b.sample())).not.toEqual(xs);
  });

  it('contains only integers in range', () => {
    const s = new Discrete(3, -1);
    expect(s.contains(-1)).toBe(true);
    expect(s.contains(1)).toBe(true);
    expect(s.contains(2)).toBe(false);
    expect(s.contains(0.5)).toBe(false);
    expect(s.contains('0')).toBe(false);
    expect(() => new Discrete(0)).toThrow(/positive integer/);
  });
});

describe('MultiDiscrete', () => {
  it('samples per dimension with per-dimension masks', () => {
    const s = new MultiDiscrete([2, 4], [0, 5], 3);
    for (let i = 0; i < 100; i++) {
      const v = s.sample([new Uint8Array([0, 1]), new Uint8Array([1, 0, 0, 1])]);
      expect(v).toBeInstanceOf(Int32Array);
      expect(v[0]).toBe(1);
      expect([5, 8]).toContain(v[1]);
      expect(s.contains(v)).toBe(true);
    }
    expect(Array.from(s.sample([new Uint8Array(2), new Uint8Array(4)]))).toEqual([0, 5]);
    expect(s.contains(new Int32Array([1, 9]))).toBe(false);
    expect(s.contains([1, 5])).toBe(false);
    expect(() => s.sample([new Uint8Array(2)])).toThrow(/expected 2 masks/);
  });
});

describe('Box', () => {
  it('samples bounded float boxes uniformly inside the bounds', () => {
    const s = new Box(-1, [0, 2, 10], undefined, 'float32', 5);
    expect(s.shape).toEqual([3]);
    let mean0 = 0;
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const v = s.sample();
      if (!(v instanceof Float32Array) || !s.contains(v)) bad++;
      mean0 += v[0] / 2000;
    }
    expect(bad).toBe(0);
    expect(mean0).toBeCloseTo(-0.5, 1);
  });

  it('samples half-bounded and unbounded elements as Gymnasium does', () => {
    const s = new Box([0, -Infinity, -Infinity], [Infinity, 3, Infinity], [3], 'float32', 9);
    const n = 4000;
    const sums = [0, 0, 0];
    let sq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const v = s.sample();
      if (v[0] < 0 || v[1] > 3) outside++;
      sums[0] += v[0] / n;
      sums[1] += v[1] / n;
      sums[2] += v[2] / n;
      sq += (v[2] * v[2]) / n;
    }
    expect(sums[0]).toBeCloseTo(1, 1); // Exp(1) mean
    expect(sums[1]).toBeCloseTo(2, 1); // 3 - Exp(1)
    expect(Math.abs(sums[2])).toBeLessThan(0.08); // N(0,1)
    expect(sq).toBeCloseTo(1, 1);
    expect(outside).toBe(0);
    expect(s.isBounded()).toBe(false);
    expect(s.isBounded('below')).toBe(false);
  });

  it('samples integer boxes inclusively', () => {
    const s = new Box(0, 2, [4], 'uint8', 1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const v = s.sample();
      expect(v).toBeInstanceOf(Uint8Array);
      v.forEach((e) => seen.add(e));
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
    expect(() => new Box(0, 300, [1], 'uint8')).toThrow(/uint8 bounds/);
    expect(() => new Box(0, Infinity, [1], 'int32')).toThrow(/int32 bounds/);
  });

  it('contains checks class, length, bounds and NaN', () => {
    const s = new Box(0, 1, [2, 2]);
    expect(s.contains(new Float32Array([0, 0.5, 1, 1]))).toBe(true);
    expect(s.contains(new Float32Array([0, 0.5, 1.5, 1]))).toBe(false);
    expect(s.contains(new Float32Array([0, NaN, 1, 1]))).toBe(false);
    expect(s.contains(new Float32Array(3))).toBe(false);
    expect(s.contains(new Float64Array(4))).toBe(false);
    expect(s.contains([0, 0, 0, 0])).toBe(false);
    expect(() => s.sample(new Uint8Array(4) as never)).toThrow(/no mask/);
    expect(() => new Box(1, 0, [1])).toThrow(/exceeds/);
    expect(() => new Box([0, 0], 1, [3])).toThrow(/low has 2 elements/);
  });
});

describe('TensorRefSpace and CustomSpace', () => {
  it('accepts objects with a non-empty key, filtered by isValid', () => {
    const known = new Set(['img1']);
    const s = new TensorRefSpace([256, 64, 64], { isValid: (r) => known.has(r.key) });
    expect(s.contains({ key: 'img1', extra: 3 })).toBe(true);
    expect(s.contains({ key: 'img2' })).toBe(false);
    expect(s.contains({ key: '' })).toBe(false);
    expect(s.contains('img1')).toBe(false);
    const plain = new TensorRefSpace([4]);
    expect(plain.contains(plain.sample())).toBe(true);
    expect(plain.toJSON()).toEqual({ type: 'TensorRef', shape: [4], dtype: 'float32' });
  });

  it('custom spaces use their predicate and sampler and can be registered for JSON', () => {
    const even = new CustomSpace<number>({
      name: 'even',
      contains: (x): x is number => typeof x === 'number' && x % 2 === 0,
      sample: (rng) => 2 * rng.int(10),
      seed: 4,
    });
    for (let i = 0; i < 20; i++) expect(even.contains(even.sample())).toBe(true);
    expect(() => spaceFromJSON(even.toJSON())).toThrow(/unknown space type 'Custom:even'/);
    registerSpaceType('Custom:even', () => even);
    expect(spaceFromJSON(even.toJSON())).toBe(even);
  });
});

describe('Dict', () => {
  const make = () =>
    new Dict({
      embedding: new TensorRefSpace([256, 64, 64]),
      maskProbs: new Box(0, 1, [4, 4]),
      actionMask: new Box(0, 1, [9], 'uint8'),
      step: new Discrete(15),
      inner: new Dict({ v: new MultiDiscrete([3, 3]) }),
    });

  it('samples members, honours per-key masks and reproduces under one seed', () => {
    const a = make();
    const b = make();
    a.seed(7);
    b.seed(7);
    for (let i = 0; i < 10; i++) {
      const x = a.sample({ step: new Uint8Array(15).fill(0).map((_, j) => (j === 4 ? 1 : 0)) });
      expect(a.contains(x)).toBe(true);
      expect(x.step).toBe(4);
      const y = b.sample({ step: new Uint8Array(15).fill(0).map((_, j) => (j === 4 ? 1 : 0)) });
      expect(deepEqual(x, y)).toBe(true);
    }
    expect(a.seed(3)).toHaveLength(7); // own seed + 5 children + the nested Dict's child
    const twins = new Dict({ a: new Discrete(1000), b: new Discrete(1000) });
    const draws = Array.from({ length: 5 }, () => twins.sample());
    expect(draws.some((d) => d.a !== d.b)).toBe(true); // children do not share a seed
    expect(() => a.sample({ nope: 1 } as never)).toThrow(/unknown key 'nope'/);
  });

  it('explains what is wrong with a non-member', () => {
    const s = make();
    const x = s.sample();
    expect(s.explain({ ...x, extra: 1 })).toMatch(/unexpected key 'extra'/);
    const { step: _omit, ...missing } = x;
    expect(s.explain(missing)).toMatch(/missing key 'step'/);
    expect(s.explain({ ...x, maskProbs: new Float32Array(3) })).toMatch(/key 'maskProbs'/);
    expect(s.explain({ ...x, inner: { v: new Int32Array([5, 0]) } })).toMatch(/^inner\.key 'v'/);
    expect(s.contains(null)).toBe(false);
    expect(() => new Dict({ a: 3 as never })).toThrow(/key 'a' is not a Space/);
  });

  it('round-trips through JSON, including infinite bounds', () => {
    const s = new Dict({
      a: new Box([-Infinity, 0], [Infinity, 1], [2]),
      b: make(),
    });
    const json = JSON.parse(JSON.stringify(s.toJSON()));
    const back = spaceFromJSON(json);
    expect(back.equals(s)).toBe(true);
    expect(back.contains(s.sample())).toBe(true);
    expect(new Discrete(3).equals(new Discrete(4))).toBe(false);
  });
});

describe('value helpers', () => {
  it('deepEqual compares typed arrays by class and content', () => {
    expect(deepEqual({ a: new Float32Array([1, NaN]) }, { a: new Float32Array([1, NaN]) })).toBe(true);
    expect(deepEqual(new Float32Array([1]), new Float64Array([1]))).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1, [2]], [1, [2]])).toBe(true);
    expect(deepEqual([1, [2]], [1, [3]])).toBe(false);
  });

  it('cloneValue copies data but keeps class instances by reference', () => {
    class Handle {
      constructor(public id: number) {}
    }
    const h = new Handle(1);
    const x = { arr: new Float32Array([1, 2]), list: [new Uint8Array([3])], h };
    const y = cloneValue(x);
    expect(deepEqual(x, y)).toBe(true);
    x.arr[0] = 9;
    x.list[0][0] = 9;
    expect(y.arr[0]).toBe(1);
    expect(y.list[0][0]).toBe(3);
    expect(y.h).toBe(h);
  });
});
