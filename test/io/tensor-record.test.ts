import {
  adoptBytes,
  assertTensorConsistent,
  float16BitsToNumber,
  NamedTensor,
  tensorBytesLE,
  toFloat32,
  toInt32,
  typedArrayFromBytes,
} from '../../src/io/tensor-record';

describe('tensor-record', () => {
  test('float16 bits decode exactly, including subnormals, infinities and NaN', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(float16BitsToNumber(0x7e00))).toBe(true);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
  });

  test('toFloat32 widens float16, bfloat16 and float64', () => {
    const f16: NamedTensor = { dtype: 'float16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x3800]) };
    expect(Array.from(toFloat32(f16))).toEqual([1, -2, 0.5]);
    // bfloat16 0x4049 is the top half of float32 0x40490000 = 3.140625.
    const bf16: NamedTensor = { dtype: 'bfloat16', shape: [2], data: Uint16Array.from([0x3f80, 0x4049]) };
    expect(Array.from(toFloat32(bf16))).toEqual([1, 3.140625]);
    const f64: NamedTensor = { dtype: 'float64', shape: [2], data: Float64Array.from([0.1, -3]) };
    expect(Array.from(toFloat32(f64))).toEqual([Math.fround(0.1), -3]);
    const f32: NamedTensor = { dtype: 'float32', shape: [1], data: Float32Array.from([7]) };
    expect(toFloat32(f32)).toBe(f32.data);
  });

  test('int64 narrows to int32 and refuses out-of-range values, naming the tensor', () => {
    const ok: NamedTensor = { dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, -5n, 2147483647n]) };
    expect(Array.from(toInt32(ok, 'ok'))).toEqual([0, -5, 2147483647]);
    const big: NamedTensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from([1n, 2147483648n]) };
    expect(() => toInt32(big, 'counts')).toThrow(/counts: int64 value 2147483648 at index 1/);
    const huge: NamedTensor = { dtype: 'int64', shape: [1], data: BigInt64Array.from([2n ** 60n]) };
    expect(() => toFloat32(huge, 'huge')).toThrow(/huge/);
    expect(() => toInt32({ dtype: 'float32', shape: [1], data: new Float32Array(1) }, 'w')).toThrow(
      /w: cannot convert float32/,
    );
  });

  test('bytes at an unaligned offset become an aligned array of the right values', () => {
    const backing = new Uint8Array(13);
    const values = Float32Array.from([1.5, -2.25, 1e-7]);
    backing.set(new Uint8Array(values.buffer), 1);
    const arr = typedArrayFromBytes('float32', backing.subarray(1, 13));
    expect(arr).toBeInstanceOf(Float32Array);
    expect(Array.from(arr as Float32Array)).toEqual(Array.from(values));
    expect(arr.byteOffset).toBe(0);
    expect(() => typedArrayFromBytes('float32', backing.subarray(0, 5))).toThrow(/whole number/);
  });

  test('big-endian bytes are swapped into host order', () => {
    const be = Uint8Array.from([0x3f, 0x80, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00]);
    expect(Array.from(typedArrayFromBytes('float32', be, 'big') as Float32Array)).toEqual([1, -2]);
    const le = tensorBytesLE(Float32Array.from([1]));
    expect(Array.from(le)).toEqual([0, 0, 0x80, 0x3f]);
  });

  test('adoptBytes reuses a whole fresh buffer but copies a sub-view', () => {
    const whole = new Uint8Array(8);
    expect((adoptBytes('float32', whole) as Float32Array).buffer).toBe(whole.buffer);
    const part = new Uint8Array(12).subarray(4, 12);
    expect((adoptBytes('float32', part) as Float32Array).buffer).not.toBe(part.buffer);
  });

  test('assertTensorConsistent names the tensor and the mismatch', () => {
    expect(() => assertTensorConsistent({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }, 'w')).toThrow(
      /w: shape \[2, 2\] needs 4 elements, data has 3/,
    );
    expect(() => assertTensorConsistent({ dtype: 'int32', shape: [1], data: new Float32Array(1) }, 'w')).toThrow(
      /dtype int32 does not match/,
    );
  });
});
