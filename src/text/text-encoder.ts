/**
 * Text encoders turn a target's name ("star", "car", "shadow") into the vector that conditions the
 * policy and the semantic recalibration module, so one agent can serve many named targets.
 *
 * Every encoder has an identity (`id`, `dim`). A policy trained with vectors from one encoder
 * means nothing with vectors from another, even of the same length, so checkpoints and exports
 * record the identity and `assertSameTextEncoder` refuses a mismatch.
 *
 * Conventions shared by all encoders: vectors are Float32Array of length `dim`, L2-normalised;
 * the empty name (a task without a name) maps to the zero vector.
 */

export interface TextEncoderIdentity {
  /** Names the encoder and its weights, e.g. 'use-lite:3f2a...' or 'hashed-ngram-v1:d512:n1-4'. */
  id: string;
  dim: number;
}

export interface TextEncoder extends TextEncoderIdentity {
  /** One vector per name, in order. Cached per name: the same name returns the same array. */
  embed(names: readonly string[]): Promise<Float32Array[]>;
}

/** The identity as plain JSON, for checkpoints and exports. */
export function textEncoderIdentity(encoder: TextEncoderIdentity): TextEncoderIdentity {
  return { id: encoder.id, dim: encoder.dim };
}

/** Trims, applies Unicode NFKC and collapses runs of white space; names are compared after this. */
export function normalizeName(name: string): string {
  if (typeof name !== 'string') throw new Error(`text encoder: a target name must be a string, got ${typeof name}`);
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ');
}

/** x / ||x|| in place (zero stays zero). */
export function l2NormalizeInPlace(x: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < x.length; i++) x[i] *= inv;
  }
  return x;
}

/**
 * Errors when a model that recorded `expected` is about to run with vectors from `actual`.
 * `context` names what is being loaded (a checkpoint folder, an export).
 */
export function assertSameTextEncoder(
  expected: TextEncoderIdentity | null | undefined,
  actual: TextEncoderIdentity | null | undefined,
  context: string,
): void {
  const show = (e: TextEncoderIdentity | null | undefined): string => (e ? `'${e.id}' (dim ${e.dim})` : 'none');
  const same = expected && actual ? expected.id === actual.id && expected.dim === actual.dim : !expected && !actual;
  if (!same) {
    throw new Error(
      `${context}: was trained with text encoder ${show(expected)} but is being run with ${show(actual)}; ` +
        `text vectors from different encoders are not interchangeable (use the same encoder, e.g. the same USE folder, or retrain)`,
    );
  }
}

/** Parses an identity read from JSON; errors name `source` and the field. */
export function parseTextEncoderIdentity(json: unknown, source: string): TextEncoderIdentity {
  const o = json as Partial<TextEncoderIdentity> | null;
  if (!o || typeof o !== 'object')
    throw new Error(`${source}: text encoder identity must be an object {id, dim}, got ${JSON.stringify(json)}`);
  if (typeof o.id !== 'string' || o.id.length === 0)
    throw new Error(`${source}: text encoder 'id' must be a non-empty string, got ${JSON.stringify(o.id)}`);
  if (!(typeof o.dim === 'number' && Number.isInteger(o.dim) && o.dim > 0))
    throw new Error(`${source}: text encoder 'dim' must be a positive integer, got ${JSON.stringify(o.dim)}`);
  return { id: o.id, dim: o.dim };
}

/**
 * Base class: caches vectors per normalised name and computes only the missing ones, in one
 * batch. Subclasses implement `compute` for non-empty names.
 */
export abstract class CachedTextEncoder implements TextEncoder {
  abstract readonly id: string;
  abstract readonly dim: number;
  private readonly cache = new Map<string, Float32Array>();

  protected abstract compute(names: readonly string[]): Promise<Float32Array[]>;

  async embed(names: readonly string[]): Promise<Float32Array[]> {
    if (!Array.isArray(names)) throw new Error(`${this.id}: embed() takes an array of names`);
    const keys = names.map(normalizeName);
    const missing = [...new Set(keys.filter((k) => k.length > 0 && !this.cache.has(k)))];
    if (missing.length > 0) {
      const vectors = await this.compute(missing);
      if (vectors.length !== missing.length)
        throw new Error(`${this.id}: computed ${vectors.length} vectors for ${missing.length} names`);
      missing.forEach((k, i) => {
        const v = vectors[i];
        if (!(v instanceof Float32Array) || v.length !== this.dim)
          throw new Error(`${this.id}: vector of '${k}' has length ${v?.length}, expected ${this.dim}`);
        this.cache.set(k, l2NormalizeInPlace(v));
      });
    }
    return keys.map((k) => {
      if (k.length === 0) {
        let z = this.cache.get('');
        if (!z) this.cache.set('', (z = new Float32Array(this.dim)));
        return z;
      }
      return this.cache.get(k)!;
    });
  }

  /** Names cached so far (normalised). */
  cachedNames(): string[] {
    return [...this.cache.keys()];
  }
}
