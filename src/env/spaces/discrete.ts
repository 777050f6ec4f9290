import { Space, SpaceJSON } from './space';
import { isTypedArrayOf } from './typed-array';

/**
 * The integers {start, ..., start + n - 1}, as Gymnasium's `Discrete`.
 *
 * `sample(mask)` takes a Uint8Array of length n with 1 for allowed actions and picks uniformly among
 * them. An all-zero mask returns `start`, exactly as Gymnasium does (so a policy that masks every
 * action still gets a value back; callers that want an error should check `mask` themselves).
 */
export class Discrete extends Space<number> {
  constructor(
    readonly n: number,
    readonly start = 0,
    seed?: number,
  ) {
    super([], 'int32', seed);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Discrete: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(start)) throw new Error(`Discrete: start must be an integer, got ${start}`);
  }

  sample(mask?: Uint8Array): number {
    if (mask === undefined) return this.start + this.rng.int(this.n);
    checkMask(mask, this.n, 'Discrete.sample');
    let valid = 0;
    for (let i = 0; i < this.n; i++) if (mask[i] === 1) valid++;
    if (valid === 0) return this.start;
    let k = this.rng.int(valid);
    for (let i = 0; i < this.n; i++) {
      if (mask[i] === 1 && k-- === 0) return this.start + i;
    }
    throw new Error('Discrete.sample: unreachable');
  }

  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }

  toJSON(): SpaceJSON {
    return { type: 'Discrete', n: this.n, start: this.start };
  }
}

/** A mask must be a Uint8Array of 0/1 of the right length (Gymnasium's rule too). */
export function checkMask(mask: unknown, n: number, where: string): asserts mask is Uint8Array {
  if (!isTypedArrayOf(mask, 'Uint8Array'))
    throw new Error(`${where}: mask must be a Uint8Array, got ${describe(mask)}`);
  if (mask.length !== n) throw new Error(`${where}: mask has length ${mask.length}, expected ${n}`);
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) throw new Error(`${where}: mask values must be 0 or 1, got ${mask[i]} at ${i}`);
  }
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(x)) return `array(${x.length})`;
  return typeof x;
}
