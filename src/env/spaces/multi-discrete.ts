import { checkMask, describe } from './discrete';
import { Space, SpaceJSON } from './space';
import { isTypedArrayOf } from './typed-array';

/**
 * A vector of independent discrete values, value i in {start[i], ..., start[i] + nvec[i] - 1}, as
 * Gymnasium's `MultiDiscrete` (one-dimensional `nvec` only). Values are Int32Arrays.
 *
 * `sample(masks)` takes one Uint8Array per dimension; an all-zero mask for a dimension gives that
 * dimension's start, as `Discrete` does.
 */
export class MultiDiscrete extends Space<Int32Array> {
  readonly nvec: readonly number[];
  readonly start: readonly number[];

  constructor(nvec: readonly number[], start?: readonly number[], seed?: number) {
    super([nvec.length], 'int32', seed);
    if (!Array.isArray(nvec) || nvec.length === 0 || nvec.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new Error(
        `MultiDiscrete: nvec must be a non-empty array of positive integers, got ${JSON.stringify(nvec)}`,
      );
    }
    const s = start ?? nvec.map(() => 0);
    if (s.length !== nvec.length || s.some((v) => !Number.isInteger(v))) {
      throw new Error(`MultiDiscrete: start must be ${nvec.length} integers, got ${JSON.stringify(start)}`);
    }
    this.nvec = [...nvec];
    this.start = [...s];
  }

  sample(masks?: readonly Uint8Array[]): Int32Array {
    const out = new Int32Array(this.nvec.length);
    if (masks !== undefined && (!Array.isArray(masks) || masks.length !== this.nvec.length)) {
      throw new Error(`MultiDiscrete.sample: expected ${this.nvec.length} masks, got ${describe(masks)}`);
    }
    for (let d = 0; d < this.nvec.length; d++) {
      const n = this.nvec[d];
      const mask = masks?.[d];
      if (mask === undefined) {
        out[d] = this.start[d] + this.rng.int(n);
        continue;
      }
      checkMask(mask, n, `MultiDiscrete.sample (dimension ${d})`);
      let valid = 0;
      for (let i = 0; i < n; i++) valid += mask[i];
      if (valid === 0) {
        out[d] = this.start[d];
        continue;
      }
      let k = this.rng.int(valid);
      for (let i = 0; i < n; i++) {
        if (mask[i] === 1 && k-- === 0) {
          out[d] = this.start[d] + i;
          break;
        }
      }
    }
    return out;
  }

  contains(x: unknown): x is Int32Array {
    if (!isTypedArrayOf(x, 'Int32Array') || x.length !== this.nvec.length) return false;
    for (let d = 0; d < x.length; d++) {
      if (x[d] < this.start[d] || x[d] >= this.start[d] + this.nvec[d]) return false;
    }
    return true;
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiDiscrete', nvec: [...this.nvec], start: [...this.start] };
  }
}
