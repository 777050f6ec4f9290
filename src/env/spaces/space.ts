/**
 * The abstract space, after Gymnasium's `Space`: a set of values with a seeded `sample`, a
 * membership test, a shape and a JSON description. Unlike Gymnasium, a space built without a seed
 * is seeded with 0, so that a forgotten `seed` call never makes a run irreproducible; `seed()`
 * with no argument draws fresh entropy, as Gymnasium's `seed(None)` does.
 */
import { randomInt } from 'crypto';
import { Rng } from '../../utils/rng';

/** JSON description of a space; `type` names the class. Infinite bounds are written as strings. */
export interface SpaceJSON {
  type: string;
  [field: string]: unknown;
}

export abstract class Space<T> {
  protected rng: Rng;

  /**
   * @param shape the shape of one value (`[]` for a scalar such as a Discrete action); `null` where
   *   a value has no tensor shape (a Dict).
   * @param dtype the element type of a value, or null where there is none (a Dict).
   */
  protected constructor(
    readonly shape: readonly number[] | null,
    readonly dtype: string | null,
    seed?: number,
  ) {
    this.rng = new Rng(seed ?? 0);
  }

  /**
   * Reseed the sampler. Returns the seeds used (one here; composite spaces list their children's
   * seeds after their own, as Gymnasium does).
   */
  seed(seed?: number): number[] {
    const used = seed ?? randomInt(0, 2 ** 31 - 1);
    this.rng.seed(used);
    return [used];
  }

  /** A random element of the space; `mask` restricts the choice where the space supports it. */
  abstract sample(mask?: unknown): T;

  /** Whether `x` is an element of the space (type, shape, dtype and bounds). */
  abstract contains(x: unknown): x is T;

  abstract toJSON(): SpaceJSON;

  /** Two spaces are equal when they describe the same set (seeds aside). */
  equals(other: Space<unknown>): boolean {
    return JSON.stringify(this.toJSON()) === JSON.stringify(other.toJSON());
  }

  toString(): string {
    return JSON.stringify(this.toJSON());
  }
}

/** The value type of a space. */
export type SpaceValue<S> = S extends Space<infer T> ? T : never;

export function isSpace(x: unknown): x is Space<unknown> {
  return x instanceof Space;
}

/** Encode a bound that may be infinite as JSON (JSON has no Infinity). */
export function encodeBound(v: number): number | string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v;
}

export function decodeBound(v: unknown, where: string): number {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new Error(`${where}: expected a finite number, 'inf' or '-inf', got ${JSON.stringify(v)}`);
}

export function checkShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
