/**
 * A small zip writer for tests: stored or deflated entries, optionally with zip64 records forced
 * even for small archives (so that the reader's zip64 paths are exercised).
 */
import * as zlib from 'node:zlib';

import { crc32 } from '../../../src/io/zip';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  method?: 'stored' | 'deflate';
  /** Extra flag bits for both headers (e.g. 0x1 = encrypted). */
  flags?: number;
  /** Override the method number written (e.g. 12 = bzip2) without changing the data. */
  methodNumber?: number;
}

export interface ZipOptions {
  zip64?: boolean;
  comment?: Uint8Array;
  /** Bytes placed before the first entry (offsets stay correct). */
  prefix?: Uint8Array;
}

class Bytes {
  private parts: Uint8Array[] = [];
  length = 0;
  push(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }
  u16(v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.push(b);
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.push(b);
  }
  u64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  concat(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

export function buildZip(inputs: ZipInput[], options: ZipOptions = {}): Uint8Array {
  const zip64 = options.zip64 === true;
  const out = new Bytes();
  if (options.prefix) out.push(options.prefix);
  const central = new Bytes();
  for (const input of inputs) {
    const name = Buffer.from(input.name, 'utf8');
    const deflate = input.method === 'deflate';
    const body = deflate ? zlib.deflateRawSync(input.data) : input.data;
    const method = input.methodNumber ?? (deflate ? 8 : 0);
    const flags = 0x800 | (input.flags ?? 0);
    const crc = crc32(input.data);
    const offset = out.length;

    const localExtra = new Bytes();
    if (zip64) {
      localExtra.u16(0x0001);
      localExtra.u16(16);
      localExtra.u64(input.data.length);
      localExtra.u64(body.length);
    }
    out.u32(0x04034b50);
    out.u16(zip64 ? 45 : 20);
    out.u16(flags);
    out.u16(method);
    out.u16(0);
    out.u16(0x21);
    out.u32(crc);
    out.u32(zip64 ? 0xffffffff : body.length);
    out.u32(zip64 ? 0xffffffff : input.data.length);
    out.u16(name.length);
    out.u16(localExtra.length);
    out.push(name);
    out.push(localExtra.concat());
    out.push(body);

    const centralExtra = new Bytes();
    if (zip64) {
      centralExtra.u16(0x0001);
      centralExtra.u16(24);
      centralExtra.u64(input.data.length);
      centralExtra.u64(body.length);
      centralExtra.u64(offset);
    }
    central.u32(0x02014b50);
    central.u16(zip64 ? 45 : 20);
    central.u16(zip64 ? 45 : 20);
    central.u16(flags);
    central.u16(method);
    central.u16(0);
    central.u16(0x21);
    central.u32(crc);
    central.u32(zip64 ? 0xffffffff : body.length);
    central.u32(zip64 ? 0xffffffff : input.data.length);
    central.u16(name.length);
    central.u16(centralExtra.length);
    central.u16(0);
    central.u16(0);
    central.u16(0);
    central.u32(0);
    central.u32(zip64 ? 0xffffffff : offset);
    central.push(name);
    central.push(centralExtra.concat());
  }
  const cdOffset = out.length;
  const cdSize = central.length;
  out.push(central.concat());
  if (zip64) {
    const recordOffset = out.length;
    out.u32(0x06064b50);
    out.u64(44);
    out.u16(45);
    out.u16(45);
    out.u32(0);
    out.u32(0);
    out.u64(inputs.length);
    out.u64(inputs.length);
    out.u64(cdSize);
    out.u64(cdOffset);
    out.u32(0x07064b50);
    out.u32(0);
    out.u64(recordOffset);
    out.u32(1);
  }
  const comment = options.comment ?? new Uint8Array(0);
  out.u32(0x06054b50);
  out.u16(0);
  out.u16(0);
  out.u16(zip64 ? 0xffff : inputs.length);
  out.u16(zip64 ? 0xffff : inputs.length);
  out.u32(zip64 ? 0xffffffff : cdSize);
  out.u32(zip64 ? 0xffffffff : cdOffset);
  out.u16(comment.length);
  out.push(comment);
  return out.concat();
}
