import { isTypedArrayOf, TypedArrayName } from './typed-array';
import { checkShape, decodeBound, encodeBound, shapeSize, Space, SpaceJSON } from './space';

export type BoxDType = 'float32' | 'int32' | 'uint8';

/** The typed array that holds a Box value of each dtype. */
export interface BoxArrays {
  float32: Float32Array;
  int32: Int32Array;
  uint8: Uint8Array;
}

const DTYPE_RANGE: Record<Exclude<BoxDType, 'float32'>, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
};

function allocate<D extends BoxDType>(dtype: D, size: number): BoxArrays[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size) as BoxArrays[D];
    case 'int32':
      return new Int32Array(size) as BoxArrays[D];
    default:
      return new Uint8Array(size) as BoxArrays[D];
  }
}

const ARRAY_NAME: Record<BoxDType, TypedArrayName> = {
  float32: 'Float32Array',
  int32: 'Int32Array',
  uint8: 'Uint8Array',
};

/**
 * An axis-aligned box in R^n, as Gymnasium's `Box`. A value is a flat typed array in row-major order
 * of `shape` (Float32Array for float32, Int32Array for int32, Uint8Array for uint8); `contains` wants
 * that exact array class, the right length, and every element within [low, high] (NaN fails).
 *
 * Sampling per element follows Gymnasium: bounded on both sides -> uniform in [low, high) (integers:
 * uniform in [low, high]); bounded below only -> low + Exp(1); above only -> high - Exp(1);
 * unbounded -> N(0, 1). Integer dtypes need finite integer bounds inside the dtype's range.
 */
export class Box<D extends BoxDType = 'float32'> extends Space<BoxArrays[D]> {
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly size: number;
  declare readonly shape: readonly number[];
  declare readonly dtype: D;

  constructor(
    low: number | ArrayLike<number>,
    high: number | ArrayLike<number>,
    shape?: readonly number[],
    dtype?: D,
    seed?: number,
  ) {
    const shp =
      shape ?? (typeof low !== 'number' ? [low.length] : typeof high !== 'number' ? [high.length] : undefined);
    if (shp === undefined) throw new Error('Box: shape is required when low and high are both scalars');
    checkShape(shp, 'Box');
    super([...shp], dtype ?? 'float32', seed);
    this.size = shapeSize(shp);
    this.low = this.expand(low, 'low');
    this.high = this.expand(high, 'high');
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i];
      const hi = this.high[i];
      if (Number.isNaN(lo) || Number.isNaN(hi)) throw new Error(`Box: bound ${i} is NaN`);
      if (lo > hi) throw new Error(`Box: low[${i}] = ${lo} exceeds high[${i}] = ${hi}`);
      if (this.dtype !== 'float32') {
        const [min, max] = DTYPE_RANGE[this.dtype as Exclude<BoxDType, 'float32'>];
        if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < min || hi > max) {
          throw new Error(`Box: ${this.dtype} bounds must be integers in [${min}, ${max}], got [${lo}, ${hi}] at ${i}`);
        }
      }
    }
  }

  private expand(v: number | ArrayLike<number>, name: string): Float64Array {
    const out = new Float64Array(this.size);
    if (typeof v === 'number') {
      out.fill(v);
      return out;
    }
    if (v.length !== this.size) {
      throw new Error(`Box: ${name} has ${v.length} elements, shape ${JSON.stringify(this.shape)} needs ${this.size}`);
    }
    for (let i = 0; i < this.size; i++) out[i] = v[i];
    return out;
  }

  isBounded(manner: 'both' | 'below' | 'above' = 'both'): boolean {
    const below = this.low.every((v) => v > -Infinity);
    const above = this.high.every((v) => v < Infinity);
    return manner === 'both' ? below && above : manner === 'below' ? below : above;
  }

  sample(mask?: undefined): BoxArrays[D] {
    if (mask !== undefined) throw new Error('Box.sample: Box spaces take no mask (as in Gymnasium)');
    const out = allocate(this.dtype, this.size);
    const isInt = this.dtype !== 'float32';
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i];
      const hi = this.high[i];
      if (isInt) {
        out[i] = lo + this.rng.int(hi - lo + 1);
      } else if (lo > -Infinity && hi < Infinity) {
        // Float32 rounding can lift lo + (hi - lo) * u to hi; clamp to keep the draw inside the box.
        out[i] = Math.min(this.rng.uniform(lo, hi), hi);
        if (out[i] < lo) out[i] = lo;
      } else if (lo > -Infinity) {
        out[i] = lo - Math.log(1 - this.rng.random());
      } else if (hi < Infinity) {
        out[i] = hi + Math.log(1 - this.rng.random());
      } else {
        out[i] = this.rng.normal();
      }
    }
    return out;
  }

  contains(x: unknown): x is BoxArrays[D] {
    if (!isTypedArrayOf(x, ARRAY_NAME[this.dtype]) || (x as ArrayLike<number>).length !== this.size) return false;
    const a = x as ArrayLike<number>;
    for (let i = 0; i < this.size; i++) {
      const v = a[i];
      if (!(v >= this.low[i] && v <= this.high[i])) return false;
    }
    return true;
  }

  toJSON(): SpaceJSON {
    return {
      type: 'Box',
      low: compact(this.low),
      high: compact(this.high),
      shape: [...this.shape],
      dtype: this.dtype,
    };
  }

  static fromJSON(json: SpaceJSON): Box<BoxDType> {
    const where = 'Box.fromJSON';
    const bound = (v: unknown): number | number[] =>
      Array.isArray(v) ? v.map((e, i) => decodeBound(e, `${where} [${i}]`)) : decodeBound(v, where);
    const dtype = json.dtype as BoxDType;
    if (!(dtype in ARRAY_NAME)) throw new Error(`${where}: unknown dtype ${JSON.stringify(json.dtype)}`);
    return new Box(bound(json.low), bound(json.high), json.shape as number[], dtype);
  }
}

/** A bound array as one JSON value when all elements agree. */
function compact(a: Float64Array): number | string | (number | string)[] {
  if (a.length > 0 && a.every((v) => v === a[0])) return encodeBound(a[0]);
  return Array.from(a, encodeBound);
}
