/**
 * Structural equality and copying of space values (numbers, strings, typed arrays, arrays and plain
 * objects), for the env checker and the vector envs.
 */
import { typedArrayName } from './typed-array';

/** A plain object of any realm (a worker's clone, a jest sandbox's literal), not a class instance. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return (
    proto === null || (Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(x) === '[object Object]')
  );
}

/**
 * Deep structural equality. Typed arrays must have the same class, length and elements (NaN equals
 * NaN, so a NaN-bearing observation still compares equal to its replay); objects the same keys.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (typedArrayName(a) !== typedArrayName(b) || !ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i]) && x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as never)[k], (b as never)[k]));
}

/** The first path at which two values differ, for error messages ('' when equal). */
export function firstDifference(a: unknown, b: unknown, path = 'observation'): string {
  if (deepEqual(a, b)) return '';
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && typedArrayName(a) === typedArrayName(b)) {
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (x.length === y.length) {
      for (let i = 0; i < x.length; i++)
        if (!Object.is(x[i], y[i]) && x[i] !== y[i]) return `${path}[${i}]: ${x[i]} vs ${y[i]}`;
    }
  }
  return path;
}

/**
 * A copy that owns its data: typed arrays, arrays and plain objects are copied recursively; any other
 * object (a class instance such as a tensor or a cache handle) is kept by reference, so that
 * referenced tensors are never duplicated.
 */
export function cloneValue<T>(x: T): T {
  if (x === null || typeof x !== 'object') return x;
  if (ArrayBuffer.isView(x)) {
    if (x instanceof DataView) return new DataView(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength)) as T;
    return (x as unknown as { slice(): T }).slice();
  }
  if (Array.isArray(x)) return x.map((v) => cloneValue(v)) as T;
  if (isPlainObject(x)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = cloneValue(v);
    return out as T;
  }
  return x;
}
