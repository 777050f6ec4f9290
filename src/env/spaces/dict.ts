import { Rng } from '../../utils/rng';
import { describe } from './discrete';
import { Space, SpaceJSON, SpaceValue } from './space';

export type SpaceMap = Record<string, Space<unknown>>;
export type DictValue<S extends SpaceMap> = { [K in keyof S]: SpaceValue<S[K]> };

/**
 * A structured value: an object whose every key holds an element of that key's sub-space, as
 * Gymnasium's `Dict`. Keys keep their insertion order (Gymnasium sorts them; order only matters for
 * seeding and JSON here). `contains` wants a plain object with exactly these keys.
 *
 * `sample(masks)` takes an optional object of per-key masks (a key left out samples unmasked).
 * `seed(n)` seeds this space with n and each sub-space with a seed drawn from Rng(n), so one seed
 * reproduces every sample. The constructor does the same with its `seed` (default 0), so sub-spaces'
 * own seeds are replaced.
 */
export class Dict<S extends SpaceMap = SpaceMap> extends Space<DictValue<S>> {
  readonly spaces: Readonly<S>;

  constructor(spaces: S, seed?: number) {
    super(null, null, seed);
    if (spaces === null || typeof spaces !== 'object') throw new Error('Dict: expected an object of spaces');
    for (const [key, sub] of Object.entries(spaces)) {
      if (!(sub instanceof Space)) throw new Error(`Dict: key '${key}' is not a Space (got ${describe(sub)})`);
    }
    this.spaces = { ...spaces };
    // Always derive the children's seeds: they would otherwise all share the default seed 0 and
    // draw identical values.
    this.seed(seed ?? 0);
  }

  get keys(): string[] {
    return Object.keys(this.spaces);
  }

  override seed(seed?: number): number[] {
    const [own] = super.seed(seed);
    const sub = new Rng(own);
    const used = [own];
    for (const key of this.keys) used.push(...this.spaces[key].seed(sub.nextUint32() >>> 1));
    return used;
  }

  sample(masks?: Partial<Record<keyof S, unknown>>): DictValue<S> {
    const out: Record<string, unknown> = {};
    if (masks !== undefined) {
      for (const key of Object.keys(masks)) {
        if (!(key in this.spaces)) throw new Error(`Dict.sample: mask for unknown key '${key}'`);
      }
    }
    for (const key of this.keys) {
      const mask = masks?.[key as keyof S];
      out[key] = mask === undefined ? this.spaces[key].sample() : this.spaces[key].sample(mask);
    }
    return out as DictValue<S>;
  }

  contains(x: unknown): x is DictValue<S> {
    return this.explain(x) === null;
  }

  /** Why `x` is not in the space (the first failing key), or null when it is. */
  explain(x: unknown): string | null {
    if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) {
      return `expected an object, got ${describe(x)}`;
    }
    const keys = Object.keys(x);
    for (const key of keys) if (!(key in this.spaces)) return `unexpected key '${key}'`;
    for (const key of this.keys) {
      if (!(key in x)) return `missing key '${key}'`;
      const sub = this.spaces[key];
      const v = (x as Record<string, unknown>)[key];
      if (sub instanceof Dict) {
        const why = sub.explain(v);
        if (why !== null) return `${key}.${why}`;
      } else if (!sub.contains(v)) {
        return `key '${key}' (${describe(v)}) is not in ${sub.toString()}`;
      }
    }
    return null;
  }

  toJSON(): SpaceJSON {
    const spaces: Record<string, SpaceJSON> = {};
    for (const key of this.keys) spaces[key] = this.spaces[key].toJSON();
    return { type: 'Dict', spaces };
  }
}
