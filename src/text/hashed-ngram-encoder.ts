/**
 * The offline fallback text encoder: feature hashing of character n-grams. Needs no files and
 * gives the same vector for the same name on every machine, but it is much WEAKER than the
 * Universal Sentence Encoder: it knows spelling, not meaning ("car" and "automobile" share
 * nothing; "cat" and "cart" look alike). It is enough to tell a fixed set of category names apart,
 * which is what conditioning on a known list of targets needs; use USE when names vary or when
 * unseen names should land near related seen ones.
 *
 * Vector: for the lowercased name padded with a space on each side, every character n-gram with
 * n in [minN, maxN] adds +-1 to bucket h(gram) mod dim (sign from another hash bit, so collisions
 * cancel on average); the result is L2-normalised.
 */
import { CachedTextEncoder } from './text-encoder';

export interface HashedNgramOptions {
  /** Vector length. Default 512 (USE-lite's, so configs can switch encoders). */
  dim?: number;
  /** Shortest n-gram. Default 1. */
  minN?: number;
  /** Longest n-gram. Default 4. */
  maxN?: number;
}

/** FNV-1a over UTF-16 code units, 32-bit. */
function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche: FNV's low bits alone are weak for short keys.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

export class HashedNgramEncoder extends CachedTextEncoder {
  readonly id: string;
  readonly dim: number;
  readonly minN: number;
  readonly maxN: number;

  constructor(options: HashedNgramOptions = {}) {
    super();
    this.dim = options.dim ?? 512;
    this.minN = options.minN ?? 1;
    this.maxN = options.maxN ?? 4;
    if (!(Number.isInteger(this.dim) && this.dim >= 2))
      throw new Error(`hashed text encoder: dim must be an integer >= 2, got ${options.dim}`);
    if (!(
      Number.isInteger(this.minN) &&
      Number.isInteger(this.maxN) &&
      this.minN >= 1 &&
      this.maxN >= this.minN &&
      this.maxN <= 16
    )) {
      throw new Error(`hashed text encoder: need integers 1 <= minN <= maxN <= 16, got ${this.minN}..${this.maxN}`);
    }
    this.id = `hashed-ngram-v1:d${this.dim}:n${this.minN}-${this.maxN}`;
  }

  /** The vector of one name, computed synchronously (no cache). */
  vectorOf(name: string): Float32Array {
    const v = new Float32Array(this.dim);
    const chars = [...` ${name.toLowerCase()} `];
    for (let n = this.minN; n <= this.maxN; n++) {
      for (let i = 0; i + n <= chars.length; i++) {
        const gram = chars.slice(i, i + n).join('');
        const h = fnv1a(gram, n);
        v[h % this.dim] += h >>> 31 === 1 ? -1 : 1;
      }
    }
    return v;
  }

  protected async compute(names: readonly string[]): Promise<Float32Array[]> {
    return names.map((n) => this.vectorOf(n));
  }
}
