/**
 * Plain, framework-free representation of tensors read from checkpoint files.
 *
 * Representation choices:
 * - `float16` and `bfloat16` keep their raw bit patterns in a `Uint16Array`; `toFloat32` decodes them.
 * - `int64` is a `BigInt64Array`, so nothing is lost on load; `toInt32` narrows it and throws on the
 *   first value outside the int32 range (naming the tensor) instead of silently wrapping.
 * - `bool` is a `Uint8Array` of 0/1.
 * Every `data` array owns a fresh, aligned buffer (never a view into a file buffer), so records can be
 * kept after the source is gone and typed-array alignment never depends on file offsets.
 */

export type DType =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type TensorData =
  Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface NamedTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** Tensors by name, in the order of the source file. */
export type TensorRecord = Map<string, NamedTensor>;

/**
 * A checkpoint opened for reading one tensor at a time: every tensor's dtype and shape is known
 * up front, and each read makes an array of that tensor's own (nothing else of the file is kept).
 */
export interface TensorReader {
  /** Dtype and shape of every tensor, in the order of the file. */
  readonly entries: ReadonlyMap<string, { dtype: DType; shape: number[] }>;
  readSync(name: string): NamedTensor;
  close(): Promise<void>;
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export const ALL_DTYPES: readonly DType[] = Object.keys(DTYPE_BYTES) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

/** Number of elements for a shape; a scalar (`[]`) has one. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function byteSwapInPlace(bytes: Uint8Array, itemBytes: number): void {
  for (let i = 0; i < bytes.length; i += itemBytes) {
    for (let a = i, b = i + itemBytes - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** A typed array of the dtype's JS type over `buffer` (which must be aligned and sized for it). */
function viewFor(dtype: DType, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
  }
}

/**
 * Copy raw bytes (any alignment) in the given byte order into a fresh typed array for `dtype`.
 * `bytes.length` must be a multiple of the element size.
 */
export function typedArrayFromBytes(
  dtype: DType,
  bytes: Uint8Array,
  byteOrder: 'little' | 'big' = 'little',
): TensorData {
  const itemBytes = DTYPE_BYTES[dtype];
  if (bytes.length % itemBytes !== 0) {
    throw new Error(`${bytes.length} bytes is not a whole number of ${dtype} elements (${itemBytes} bytes each)`);
  }
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (itemBytes > 1 && (byteOrder === 'little') !== HOST_LITTLE_ENDIAN) byteSwapInPlace(copy, itemBytes);
  return viewFor(dtype, copy.buffer);
}

/**
 * Like typedArrayFromBytes, but takes ownership of `bytes` (a fresh buffer the caller will not touch
 * again): when its buffer is exactly the bytes, they are used in place (byte-swapped if needed).
 */
export function adoptBytes(dtype: DType, bytes: Uint8Array, byteOrder: 'little' | 'big' = 'little'): TensorData {
  const itemBytes = DTYPE_BYTES[dtype];
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (whole && bytes.buffer instanceof ArrayBuffer && bytes.length % itemBytes === 0) {
    if (itemBytes > 1 && (byteOrder === 'little') !== HOST_LITTLE_ENDIAN) byteSwapInPlace(bytes, itemBytes);
    return viewFor(dtype, bytes.buffer);
  }
  return typedArrayFromBytes(dtype, bytes, byteOrder);
}

/** The little-endian bytes of a tensor's data (a view when the host is little-endian). */
export function tensorBytesLE(data: TensorData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = new Uint8Array(view);
  byteSwapInPlace(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/** Whether `data`'s JS type is the one this module uses for `dtype`. */
export function dataMatchesDType(dtype: DType, data: TensorData): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'float16':
    case 'bfloat16':
      return data instanceof Uint16Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'int16':
      return data instanceof Int16Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
  }
}

/** Checks that a tensor is self-consistent; `what` names it in the error. */
export function assertTensorConsistent(tensor: NamedTensor, what: string): void {
  if (!isDType(tensor.dtype)) throw new Error(`${what}: unknown dtype ${JSON.stringify(tensor.dtype)}`);
  if (!isValidShape(tensor.shape)) throw new Error(`${what}: invalid shape ${JSON.stringify(tensor.shape)}`);
  if (!dataMatchesDType(tensor.dtype, tensor.data)) {
    throw new Error(`${what}: dtype ${tensor.dtype} does not match its data (${tensor.data.constructor.name})`);
  }
  const n = elementCount(tensor.shape);
  if (tensor.data.length !== n) {
    throw new Error(`${what}: shape [${tensor.shape.join(', ')}] needs ${n} elements, data has ${tensor.data.length}`);
  }
}

/** IEEE half-precision bits to a JS number (exact). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Float32 values of a tensor. Float16/bfloat16 decode exactly; float64 and integers round to the
 * nearest float32 (int64 beyond 2^53 throws, since it cannot be represented reliably). A float32
 * tensor's own array is returned, not a copy.
 */
export function toFloat32(tensor: NamedTensor, name = 'tensor'): Float32Array {
  const { dtype, data } = tensor;
  switch (dtype) {
    case 'float32':
      return data as Float32Array;
    case 'bfloat16': {
      // bfloat16 is the top half of a float32: widen by shifting the bits into place.
      const src = data as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'float16': {
      const src = data as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = float16BitsToNumber(src[i]);
      return out;
    }
    case 'int64': {
      const src = data as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new Error(`${name}: int64 value ${v} at index ${i} is too large to convert to float32`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    default: {
      const src = data as Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
      return Float32Array.from(src);
    }
  }
}

/** Int32 values of an integer or bool tensor; int64 values outside the int32 range throw. */
export function toInt32(tensor: NamedTensor, name = 'tensor'): Int32Array {
  const { dtype, data } = tensor;
  switch (dtype) {
    case 'int32':
      return data as Int32Array;
    case 'int64': {
      const src = data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(`${name}: int64 value ${v} at index ${i} does not fit in int32`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'bool':
      return Int32Array.from(data as Int16Array | Int8Array | Uint8Array);
    default:
      throw new Error(`${name}: cannot convert ${dtype} to int32 without losing information`);
  }
}
