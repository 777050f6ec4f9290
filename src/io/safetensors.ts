/**
 * Reader and writer for the safetensors format: 8 bytes of little-endian u64 header length N, then N
 * bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`,
 * then the raw little-endian tensor bytes; offsets are relative to the start of that data section.
 *
 * Everything in the header is checked before any tensor is read: size limits, known dtypes, shapes,
 * offsets inside the data section, byte sizes equal to prod(shape) * dtype size, and no two tensors
 * overlapping. Errors name the file and the tensor. Gaps between tensors are tolerated.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';

import { readExactly, writeAll, writeFileAtomic } from './atomic-file';
import {
  adoptBytes,
  assertTensorConsistent,
  DType,
  DTYPE_BYTES,
  elementCount,
  isValidShape,
  NamedTensor,
  TensorReader,
  TensorRecord,
  tensorBytesLE,
  typedArrayFromBytes,
} from './tensor-record';

/** safetensors dtype codes for the dtypes this project represents. */
const CODE_TO_DTYPE: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

const DTYPE_TO_CODE: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(CODE_TO_DTYPE).map(([code, dtype]) => [dtype, code]),
) as Record<DType, string>;

/** Same cap as the reference implementation: a larger header is certainly not a real file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
}

export interface SafetensorsContents {
  tensors: TensorRecord;
  metadata: Record<string, string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the u64 header length; `source` names the file in errors. */
function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8)
    throw new Error(`${source}: not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new Error(`${source}: header length ${n} exceeds the file (${fileSize - 8} bytes after the length field)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new Error(`${source}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2n) throw new Error(`${source}: header length ${n} is too small for a JSON object`);
  return Number(n);
}

/** Parse and validate the JSON header against a data section of `dataSize` bytes. */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataSize: number,
  source: string,
): Omit<SafetensorsHeader, 'dataStart'> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new Error(`${source}: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw new Error(`${source}: header must be a JSON object`);

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) throw new Error(`${source}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new Error(`${source}: __metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `${source}: tensor '${name}'`;
    if (!isPlainObject(info)) throw new Error(`${where}: header entry must be an object`);
    const code = info.dtype;
    if (typeof code !== 'string') throw new Error(`${where}: missing dtype`);
    const dtype = CODE_TO_DTYPE[code];
    if (dtype === undefined) {
      throw new Error(`${where}: unsupported dtype '${code}' (supported: ${Object.keys(CODE_TO_DTYPE).join(', ')})`);
    }
    if (!isValidShape(info.shape)) throw new Error(`${where}: invalid shape ${JSON.stringify(info.shape)}`);
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new Error(`${where}: invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new Error(`${where}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataSize) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] run past the data section (${dataSize} bytes)`);
    }
    const shape = info.shape.slice();
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw new Error(`${where}: holds ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  const byStart = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1];
    const cur = byStart[i];
    if (cur.begin < prev.end) {
      throw new Error(
        `${source}: tensor '${cur.name}' [${cur.begin}, ${cur.end}] overlaps tensor '${prev.name}' [${prev.begin}, ${prev.end}]`,
      );
    }
  }
  return { entries, metadata };
}

/** Header of a safetensors file (no tensor data is read). */
export async function readSafetensorsHeader(filePath: string): Promise<SafetensorsHeader> {
  const handle = await fsp.open(filePath, 'r');
  try {
    return await readHeaderFrom(handle, filePath);
  } finally {
    await handle.close();
  }
}

async function readHeaderFrom(handle: fsp.FileHandle, source: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const first8 = size >= 8 ? await readExactly(handle, 0, 8, source) : new Uint8Array(0);
  const n = headerLength(first8, size, source);
  const headerBytes = await readExactly(handle, 8, n, source);
  const dataStart = 8 + n;
  return { ...parseSafetensorsHeader(headerBytes, size - dataStart, source), dataStart };
}

/** Read every tensor of a safetensors file; each tensor is read straight into its own buffer. */
export async function readSafetensors(filePath: string): Promise<SafetensorsContents> {
  const handle = await fsp.open(filePath, 'r');
  try {
    const header = await readHeaderFrom(handle, filePath);
    const tensors: TensorRecord = new Map();
    for (const e of header.entries) {
      const bytes = await readExactly(
        handle,
        header.dataStart + e.begin,
        e.end - e.begin,
        `${filePath}: tensor '${e.name}'`,
      );
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: adoptBytes(e.dtype, bytes) });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    await handle.close();
  }
}

/**
 * Open a safetensors file for reading one tensor at a time: the header is read and checked now,
 * each `readSync` reads one tensor straight into its own buffer.
 */
export async function openSafetensors(filePath: string): Promise<TensorReader> {
  const handle = await fsp.open(filePath, 'r');
  try {
    const header = await readHeaderFrom(handle, filePath);
    const byName = new Map(header.entries.map((e) => [e.name, e]));
    return {
      entries: new Map(header.entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape.slice() }])),
      readSync(name: string): NamedTensor {
        const e = byName.get(name);
        if (e === undefined) throw new Error(`${filePath}: no tensor '${name}'`);
        const bytes = new Uint8Array(e.end - e.begin);
        for (let done = 0; done < bytes.length;) {
          const n = fs.readSync(handle.fd, bytes, done, bytes.length - done, header.dataStart + e.begin + done);
          if (n === 0) throw new Error(`${filePath}: tensor '${name}': unexpected end of file`);
          done += n;
        }
        return { dtype: e.dtype, shape: e.shape.slice(), data: adoptBytes(e.dtype, bytes) };
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Parse a whole safetensors file held in memory; tensors are copied into aligned arrays. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, source);
  const dataStart = 8 + n;
  const { entries, metadata } = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors: TensorRecord = new Map();
  for (const e of entries) {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedArrayFromBytes(e.dtype, raw) });
  }
  return { tensors, metadata };
}

interface PlannedLayout {
  header: Uint8Array;
  order: Array<[string, NamedTensor]>;
}

function planLayout(
  tensors: TensorRecord,
  metadata: Record<string, string> | undefined,
  target: string,
): PlannedLayout {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`${target}: metadata value for '${k}' must be a string`);
    }
    json.__metadata__ = metadata;
  }
  let offset = 0;
  const order: Array<[string, NamedTensor]> = [];
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new Error(`${target}: '__metadata__' cannot be a tensor name`);
    assertTensorConsistent(tensor, `${target}: tensor '${name}'`);
    const size = tensor.data.byteLength;
    json[name] = { dtype: DTYPE_TO_CODE[tensor.dtype], shape: tensor.shape, data_offsets: [offset, offset + size] };
    offset += size;
    order.push([name, tensor]);
  }
  // Pad the header with spaces to a multiple of 8 so that the data section starts aligned.
  const text = JSON.stringify(json);
  const raw = new TextEncoder().encode(text);
  const padded = Math.ceil(raw.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(raw, 8);
  return { header, order };
}

/** The whole file as bytes (for small records and tests; use writeSafetensors for large ones). */
export function serializeSafetensors(tensors: TensorRecord, metadata?: Record<string, string>): Uint8Array {
  const { header, order } = planLayout(tensors, metadata, '<buffer>');
  const total = header.length + order.reduce((s, [, t]) => s + t.data.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let pos = header.length;
  for (const [, t] of order) {
    out.set(tensorBytesLE(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Write a safetensors file atomically (temporary file, then rename): a failure leaves no partial
 * file at `filePath` and an existing file there untouched.
 */
export async function writeSafetensors(
  filePath: string,
  tensors: TensorRecord,
  metadata?: Record<string, string>,
): Promise<void> {
  const { header, order } = planLayout(tensors, metadata, filePath);
  await writeFileAtomic(filePath, async (handle) => {
    await writeAll(handle, header);
    for (const [, t] of order) await writeAll(handle, tensorBytesLE(t.data));
  });
}
