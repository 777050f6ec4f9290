import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/io/safetensors';
import { TensorRecord } from '../../src/io/tensor-record';

const FIXTURE = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.safetensors');

/** A safetensors file from a header object and a data section, bypassing our writer. */
function handMade(header: object, data: Uint8Array, declaredLength?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads the reference fixture; file and buffer readers agree', async () => {
    const { tensors, metadata } = await readSafetensors(FIXTURE);
    expect(metadata.model).toBe('sam-tiny-random');
    expect(tensors.size).toBe(174);
    const pos = tensors.get('image_encoder.pos_embed');
    expect(pos?.dtype).toBe('float32');
    expect(pos?.shape).toEqual([1, 8, 8, 32]);
    // Check a value straight from the file bytes, independently of the reader.
    const raw = fs.readFileSync(FIXTURE);
    const headerLen = Number(raw.readBigUInt64LE(0));
    expect(pos?.data[5]).toBe(raw.readFloatLE(8 + headerLen + 5 * 4));

    const fromBuffer = parseSafetensors(raw, FIXTURE);
    expect([...fromBuffer.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const other = fromBuffer.tensors.get(name)?.data as Float32Array;
      expect(
        Buffer.compare(Buffer.from(other.buffer), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
      ).toBe(0);
    }

    const header = await readSafetensorsHeader(FIXTURE);
    expect(header.dataStart).toBe(8 + headerLen);
    expect(header.entries[0]).toEqual({
      name: 'image_encoder.pos_embed',
      dtype: 'float32',
      shape: [1, 8, 8, 32],
      begin: 0,
      end: 8192,
    });
  });

  test('writing the fixture back reproduces the reference file byte for byte', async () => {
    const { tensors, metadata } = await readSafetensors(FIXTURE);
    const out = path.join(dir, 'copy.safetensors');
    await writeSafetensors(out, tensors, metadata);
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(FIXTURE))).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['copy.safetensors']);
  });

  test('round-trips every dtype, scalars, empty tensors and metadata', async () => {
    const record: TensorRecord = new Map();
    record.set('f32', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, -4, 5.5, 1e-30]) });
    record.set('f16', { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xfbff]) });
    record.set('bf16', { dtype: 'bfloat16', shape: [1], data: Uint16Array.from([0x4049]) });
    record.set('f64', { dtype: 'float64', shape: [], data: Float64Array.from([Math.PI]) });
    record.set('i64', { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 62n), 9n]) });
    record.set('i32', { dtype: 'int32', shape: [1, 1], data: Int32Array.from([-7]) });
    record.set('i16', { dtype: 'int16', shape: [1], data: Int16Array.from([-300]) });
    record.set('i8', { dtype: 'int8', shape: [3], data: Int8Array.from([-1, 0, 1]) });
    record.set('u8', { dtype: 'uint8', shape: [1], data: Uint8Array.from([255]) });
    record.set('bool', { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) });
    record.set('empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) });
    const file = path.join(dir, 'all.safetensors');
    await writeSafetensors(file, record, { note: 'hello' });
    const bytes = fs.readFileSync(file);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ note: 'hello' });
    expect([...back.tensors.keys()]).toEqual([...record.keys()]);
    for (const [name, t] of record) {
      const b = back.tensors.get(name);
      expect(b?.dtype).toBe(t.dtype);
      expect(b?.shape).toEqual(t.shape);
      expect(b?.data).toEqual(t.data);
    }
    expect(parseSafetensors(serializeSafetensors(record, { note: 'hello' })).tensors.get('i64')?.data).toEqual(
      record.get('i64')?.data,
    );
  });

  test('tensors at unaligned offsets are copied into aligned arrays', () => {
    const data = new Uint8Array(3 + 8);
    data.set([7, 8, 9], 0);
    data.set(new Uint8Array(Float32Array.from([1.25, -8]).buffer), 3);
    const file = handMade(
      {
        a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
        b: { dtype: 'F32', shape: [2], data_offsets: [3, 11] },
      },
      data,
    );
    const { tensors } = parseSafetensors(file, 'odd.safetensors');
    expect(Array.from(tensors.get('a')?.data as Uint8Array)).toEqual([7, 8, 9]);
    expect(Array.from(tensors.get('b')?.data as Float32Array)).toEqual([1.25, -8]);
  });

  describe('validation names the file and the tensor', () => {
    const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const cases: Array<[string, Uint8Array, RegExp]> = [
      [
        'header length past the end',
        handMade({}, new Uint8Array(0), 1000),
        /bad\.st: header length 1000 exceeds the file/,
      ],
      [
        'invalid JSON',
        (() => {
          const b = handMade({ a: 1 }, new Uint8Array(0));
          b[9] = 0x7b;
          b[10] = 0x7b;
          return b;
        })(),
        /bad\.st: header is not valid UTF-8 JSON/,
      ],
      [
        'unknown dtype',
        handMade({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
        /bad\.st: tensor 'w': unsupported dtype 'F8_E4M3'/,
      ],
      [
        'size mismatch',
        handMade({ w: f32([2, 2], [0, 12]) }, new Uint8Array(16)),
        /bad\.st: tensor 'w': holds 12 bytes but float32 \[2, 2\] needs 16/,
      ],
      [
        'offsets out of bounds',
        handMade({ w: f32([4], [4, 20]) }, new Uint8Array(16)),
        /bad\.st: tensor 'w': data_offsets \[4, 20\] run past the data section \(16 bytes\)/,
      ],
      [
        'reversed offsets',
        handMade({ w: f32([0], [8, 4]) }, new Uint8Array(16)),
        /tensor 'w': data_offsets \[8, 4\] are reversed/,
      ],
      [
        'overlap',
        handMade({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(16)),
        /bad\.st: tensor 'b' \[4, 12\] overlaps tensor 'a' \[0, 8\]/,
      ],
      [
        'bad shape',
        handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)),
        /tensor 'w': invalid shape/,
      ],
      ['bad metadata', handMade({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__\.a must be a string/],
      ['too short', new Uint8Array(5), /bad\.st: not a safetensors file/],
    ];
    test.each(cases)('%s (buffer)', (_label, bytes, pattern) => {
      expect(() => parseSafetensors(bytes, 'bad.st')).toThrow(pattern);
    });
    test('file reader reports the path', async () => {
      const file = path.join(dir, 'bad.st');
      fs.writeFileSync(file, cases[4][1]);
      await expect(readSafetensors(file)).rejects.toThrow(/bad\.st: tensor 'w': data_offsets \[4, 20\] run past/);
    });
  });

  test('a failed write leaves the existing file untouched and no temporary files', async () => {
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, 'previous contents');
    const bad: TensorRecord = new Map([['w', { dtype: 'float32', shape: [3], data: new Float32Array(2) }]]);
    await expect(writeSafetensors(file, bad)).rejects.toThrow(
      /model\.safetensors: tensor 'w': shape \[3\] needs 3 elements/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('previous contents');
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    // An error while writing (the destination is a folder, so the final rename fails) also cleans up.
    const folder = path.join(dir, 'folder');
    fs.mkdirSync(path.join(folder, 'inner'), { recursive: true });
    const good: TensorRecord = new Map([['w', { dtype: 'float32', shape: [1], data: new Float32Array(1) }]]);
    await expect(writeSafetensors(folder, good)).rejects.toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['folder', 'model.safetensors']);
  });
});
