/**
 * Minimal zip reader: the central directory (with zip64 end records and zip64 extra fields), stored
 * and deflated entries. Entries are read on demand from an open file, so a multi-gigabyte archive
 * never has to be in memory at once; `readSync` serves callers that read one entry at a time from
 * synchronous code. Encrypted and multi-disk archives are refused.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as zlib from 'node:zlib';

import { readExactly } from './atomic-file';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Random access to the archive's bytes. */
interface ByteSource {
  readonly size: number;
  read(position: number, length: number, what: string): Promise<Uint8Array>;
  readSync(position: number, length: number, what: string): Uint8Array;
  close(): Promise<void>;
}

/** `length` bytes at `position` of an open file, synchronously. */
function readExactlySync(fd: number, position: number, length: number, what: string): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) {
      throw new Error(`${what}: unexpected end of file (wanted ${length} bytes at offset ${position}, got ${done})`);
    }
    done += n;
  }
  return out;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE), using zlib's native one where this Node has it. */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  if (typeof native === 'function') return native(bytes) >>> 0;
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether the bytes start like a zip archive (a local file header or an empty archive's end record). */
export function looksLikeZip(first4: Uint8Array): boolean {
  if (first4.length < 4) return false;
  const sig = new DataView(first4.buffer, first4.byteOffset, 4).getUint32(0, true);
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

function u64(view: DataView, offset: number, what: string): number {
  const v = view.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what}: 64-bit value ${v} is too large`);
  return Number(v);
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class ZipReader {
  private readonly byName = new Map<string, ZipEntry>();

  private constructor(
    private readonly source: ByteSource,
    /** Names the archive in errors. */
    readonly archiveName: string,
    readonly entries: readonly ZipEntry[],
  ) {
    for (const e of entries) {
      if (this.byName.has(e.name)) throw new Error(`${archiveName}: duplicate zip entry '${e.name}'`);
      this.byName.set(e.name, e);
    }
  }

  /** Open a zip file; only the end records and the central directory are read now. */
  static async open(filePath: string): Promise<ZipReader> {
    const handle = await fsp.open(filePath, 'r');
    try {
      const { size } = await handle.stat();
      const source: ByteSource = {
        size,
        read: (position, length, what) => readExactly(handle, position, length, what),
        readSync: (position, length, what) => readExactlySync(handle.fd, position, length, what),
        close: () => handle.close(),
      };
      const entries = await readCentralDirectory(source, filePath);
      return new ZipReader(source, filePath, entries);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** A zip archive held in memory (`archiveName` only names it in errors). */
  static async fromBytes(bytes: Uint8Array, archiveName = '<zip buffer>'): Promise<ZipReader> {
    const readSync = (position: number, length: number, what: string) => {
      if (position + length > bytes.length) throw new Error(`${what}: unexpected end of data`);
      return bytes.slice(position, position + length);
    };
    const source: ByteSource = {
      size: bytes.length,
      read: async (position, length, what) => readSync(position, length, what),
      readSync,
      close: async () => undefined,
    };
    return new ZipReader(source, archiveName, await readCentralDirectory(source, archiveName));
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The uncompressed bytes of an entry, CRC-checked unless `verifyCrc` is false. */
  async read(nameOrEntry: string | ZipEntry, options: { verifyCrc?: boolean } = {}): Promise<Uint8Array> {
    const { entry, what } = this.locate(nameOrEntry);
    const local = await this.source.read(entry.localHeaderOffset, 30, what);
    const raw = await this.source.read(this.dataStart(entry, local, what), entry.compressedSize, what);
    return this.decode(entry, raw, what, options);
  }

  /** `read`, synchronously. */
  readSync(nameOrEntry: string | ZipEntry, options: { verifyCrc?: boolean } = {}): Uint8Array {
    const { entry, what } = this.locate(nameOrEntry);
    const local = this.source.readSync(entry.localHeaderOffset, 30, what);
    const raw = this.source.readSync(this.dataStart(entry, local, what), entry.compressedSize, what);
    return this.decode(entry, raw, what, options);
  }

  private locate(nameOrEntry: string | ZipEntry): { entry: ZipEntry; what: string } {
    const entry = typeof nameOrEntry === 'string' ? this.byName.get(nameOrEntry) : nameOrEntry;
    if (entry === undefined) throw new Error(`${this.archiveName}: no zip entry '${String(nameOrEntry)}'`);
    const what = `${this.archiveName}: zip entry '${entry.name}'`;
    if (entry.flags & 0x1) throw new Error(`${what} is encrypted, which is not supported`);
    if (entry.method !== 0 && entry.method !== 8) {
      throw new Error(`${what} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    }
    return { entry, what };
  }

  /** Where the entry's data starts, from its 30-byte local header. */
  private dataStart(entry: ZipEntry, localHeader: Uint8Array, what: string): number {
    const local = dv(localHeader);
    if (local.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${what}: bad local header signature`);
    const dataStart = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (dataStart + entry.compressedSize > this.source.size) {
      throw new Error(`${what}: data runs past the end of the archive`);
    }
    return dataStart;
  }

  private decode(entry: ZipEntry, raw: Uint8Array, what: string, options: { verifyCrc?: boolean }): Uint8Array {
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw new Error(`${what}: stored entry sizes disagree (${entry.compressedSize} vs ${entry.uncompressedSize})`);
      }
      data = raw;
    } else {
      try {
        // The size cap stops a forged size from inflating into unbounded memory.
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (err) {
        throw new Error(`${what}: cannot inflate (${(err as Error).message})`);
      }
      if (data.length !== entry.uncompressedSize) {
        throw new Error(`${what}: inflated to ${data.length} bytes, expected ${entry.uncompressedSize}`);
      }
    }
    if (options.verifyCrc !== false) {
      const actual = crc32(data);
      if (actual !== entry.crc32) {
        throw new Error(
          `${what}: CRC-32 mismatch (stored ${entry.crc32.toString(16)}, computed ${actual.toString(16)})`,
        );
      }
    }
    return data;
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}

async function readCentralDirectory(source: ByteSource, archive: string): Promise<ZipEntry[]> {
  if (source.size < EOCD_SIZE) throw new Error(`${archive}: not a zip archive (too short)`);
  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength, archive);
  const tailView = dv(tail);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    // Check the comment length too, so that a signature inside a comment is not taken for the record.
    if (tailView.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tailView.getUint16(i + 20, true) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${archive}: not a zip archive (no end of central directory record)`);

  let diskNumber = tailView.getUint16(eocd + 4, true);
  let entryCount = tailView.getUint16(eocd + 10, true);
  let cdSize = tailView.getUint32(eocd + 12, true);
  let cdOffset = tailView.getUint32(eocd + 16, true);

  const locatorPos = tailStart + eocd - 20;
  if (locatorPos >= 0) {
    const locator = dv(await source.read(locatorPos, 20, archive));
    if (locator.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const recordPos = u64(locator, 8, `${archive}: zip64 locator`);
      if (recordPos + 56 > source.size)
        throw new Error(`${archive}: zip64 end record offset ${recordPos} is outside the file`);
      const record = dv(await source.read(recordPos, 56, archive));
      if (record.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new Error(`${archive}: bad zip64 end record signature`);
      diskNumber = record.getUint32(16, true);
      entryCount = u64(record, 32, `${archive}: zip64 entry count`);
      cdSize = u64(record, 40, `${archive}: zip64 central directory size`);
      cdOffset = u64(record, 48, `${archive}: zip64 central directory offset`);
    }
  }
  if (diskNumber !== 0) throw new Error(`${archive}: multi-disk zip archives are not supported`);
  if (cdOffset + cdSize > source.size) {
    throw new Error(
      `${archive}: central directory [${cdOffset}, ${cdOffset + cdSize}) is outside the file (${source.size} bytes)`,
    );
  }

  const cd = await source.read(cdOffset, cdSize, archive);
  const view = dv(cd);
  const decoder = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < entryCount; k++) {
    if (p + 46 > cd.length || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw new Error(`${archive}: central directory entry ${k} is malformed`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new Error(`${archive}: central directory entry ${k} runs past the directory`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    // Bit 11 marks UTF-8 names; the legacy default is CP437, close enough to latin1 for ASCII names.
    const name = flags & 0x800 ? decoder.decode(nameBytes) : latin1.decode(nameBytes);

    // The zip64 extra field holds, in this order, only those values whose 32-bit field is saturated.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const size = view.getUint16(e + 2, true);
      if (e + 4 + size > extraEnd) throw new Error(`${archive}: entry '${name}' has a malformed extra field`);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (what: string): number => {
          if (q + 8 > e + 4 + size) throw new Error(`${archive}: entry '${name}' zip64 field lacks ${what}`);
          const v = u64(view, q, `${archive}: entry '${name}' ${what}`);
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
      }
      e += 4 + size;
    }
    if (localHeaderOffset + 30 > source.size) {
      throw new Error(`${archive}: entry '${name}' local header offset ${localHeaderOffset} is outside the file`);
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
    p = end;
  }
  return entries;
}
