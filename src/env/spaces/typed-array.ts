/**
 * Typed-array type tests that work across realms. Arrays that crossed a worker boundary (or come
 * from another vm context, as in jest) are built by a different global `Float32Array`, so
 * `instanceof` fails on them; their `Symbol.toStringTag` still names the type.
 */
export type TypedArrayName =
  | 'Float32Array'
  | 'Float64Array'
  | 'Int32Array'
  | 'Uint8Array'
  | 'Uint8ClampedArray'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int8Array'
  | 'Uint32Array';

export interface TypedArrayByName {
  Float32Array: Float32Array;
  Float64Array: Float64Array;
  Int32Array: Int32Array;
  Uint8Array: Uint8Array;
  Uint8ClampedArray: Uint8ClampedArray;
  Int16Array: Int16Array;
  Uint16Array: Uint16Array;
  Int8Array: Int8Array;
  Uint32Array: Uint32Array;
}

/** The typed array's type name ('Float32Array'...), or null when `x` is not a typed array. */
export function typedArrayName(x: unknown): string | null {
  if (!ArrayBuffer.isView(x) || Object.prototype.toString.call(x) === '[object DataView]') return null;
  return Object.prototype.toString.call(x).slice(8, -1);
}

export function isTypedArrayOf<N extends TypedArrayName>(x: unknown, name: N): x is TypedArrayByName[N] {
  return typedArrayName(x) === name;
}
