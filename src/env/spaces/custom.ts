import { Rng } from '../../utils/rng';
import { Space, SpaceJSON } from './space';

export interface CustomSpaceOptions<T> {
  /** A name for messages and JSON. */
  name: string;
  contains: (x: unknown) => x is T;
  sample: (rng: Rng, mask?: unknown) => T;
  shape?: readonly number[] | null;
  dtype?: string | null;
  /** Extra JSON fields describing the set (no functions). */
  describe?: Record<string, unknown>;
  seed?: number;
}

/**
 * A space defined by a membership predicate and a sampler, for values the built-in spaces do not
 * describe. Its JSON names it (`{type: 'Custom', name}`) but cannot rebuild it: to send one across
 * threads, register a builder with `registerSpaceType`.
 */
export class CustomSpace<T> extends Space<T> {
  constructor(private readonly options: CustomSpaceOptions<T>) {
    super(options.shape ?? null, options.dtype ?? null, options.seed);
  }

  sample(mask?: unknown): T {
    return this.options.sample(this.rng, mask);
  }

  contains(x: unknown): x is T {
    return this.options.contains(x);
  }

  toJSON(): SpaceJSON {
    return { type: 'Custom', name: this.options.name, ...(this.options.describe ?? {}) };
  }
}
