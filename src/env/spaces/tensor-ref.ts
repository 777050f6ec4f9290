import { Rng } from '../../utils/rng';
import { checkShape, Space, SpaceJSON } from './space';

/**
 * A reference to a tensor held elsewhere (an image embedding in a cache), so that an observation
 * can name a 256x64x64 embedding without copying it. `key` identifies the tensor in its store; the
 * store is the env's business, not the space's.
 */
export interface TensorRef {
  readonly key: string;
}

export interface TensorRefSpaceOptions<R extends TensorRef> {
  /** dtype of the referenced tensor (descriptive). Default 'float32'. */
  dtype?: string;
  /** Extra membership test, e.g. that the key resolves in a cache. */
  isValid?: (ref: R) => boolean;
  /** How to draw a sample; the default makes a syntactically valid key that resolves nowhere. */
  sampleRef?: (rng: Rng) => R;
  seed?: number;
}

/**
 * The space of references to tensors of one shape and dtype. A value is an object with a non-empty
 * string `key` (other fields are allowed, so an env may carry e.g. a cache generation), further
 * filtered by `isValid` when given. The default `sample()` returns `{key: 'sample:<hex>'}`: a valid
 * element by shape, useful for checkers and tests, which no cache will resolve.
 */
export class TensorRefSpace<R extends TensorRef = TensorRef> extends Space<R> {
  private readonly isValid?: (ref: R) => boolean;
  private readonly sampleRef?: (rng: Rng) => R;
  declare readonly shape: readonly number[];

  constructor(shape: readonly number[], options: TensorRefSpaceOptions<R> = {}) {
    checkShape(shape, 'TensorRefSpace');
    super([...shape], options.dtype ?? 'float32', options.seed);
    this.isValid = options.isValid;
    this.sampleRef = options.sampleRef;
  }

  sample(mask?: undefined): R {
    if (mask !== undefined) throw new Error('TensorRefSpace.sample: takes no mask');
    if (this.sampleRef) return this.sampleRef(this.rng);
    const hex = this.rng.nextUint32().toString(16).padStart(8, '0');
    return { key: `sample:${hex}` } as unknown as R;
  }

  contains(x: unknown): x is R {
    if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
    const key = (x as { key?: unknown }).key;
    if (typeof key !== 'string' || key.length === 0) return false;
    return this.isValid ? this.isValid(x as R) : true;
  }

  toJSON(): SpaceJSON {
    return { type: 'TensorRef', shape: [...this.shape], dtype: this.dtype };
  }
}
