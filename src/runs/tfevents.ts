/**
 * TensorBoard event files written and read without TensorFlow: a file is a sequence of records
 * [uint64 length][masked crc32c of the length bytes][data][masked crc32c of data] (little endian),
 * each data block a serialized `tensorflow.Event` protobuf. Scalars are written the classic way
 * (`Summary.Value.simple_value`), which every TensorBoard version reads.
 *
 * Protobuf fields used (hand-encoded):
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32c, maskCrc, unmaskCrc } from '../io/crc32c';

export interface ScalarEvent {
  wallTime: number;
  step: number;
  /** tag -> value. */
  scalars: Record<string, number>;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
  /** Summary values other than scalars (text, hparams), kept as encoded so a rewrite preserves them. */
  otherValues?: Uint8Array[];
}

export const FILE_VERSION = 'brain.Event:2';

// --- protobuf encoding ---

class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(value: bigint | number): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  double(field: number, value: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.tag(field, 1).push(b);
    return this;
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.tag(field, 5).push(b);
    return this;
  }

  int64(field: number, value: number): this {
    return this.tag(field, 0).varint(BigInt(Math.trunc(value)));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length).push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export function encodeEvent(event: {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
  otherValues?: readonly Uint8Array[];
}): Uint8Array {
  const w = new ProtoWriter().double(1, event.wallTime);
  if (event.step !== 0) w.int64(2, event.step);
  if (event.fileVersion !== undefined) w.string(3, event.fileVersion);
  const scalars = Object.entries(event.scalars ?? {});
  const others = event.otherValues ?? [];
  if (scalars.length > 0 || others.length > 0) {
    const summary = new ProtoWriter();
    for (const [tag, value] of scalars) summary.bytes(1, new ProtoWriter().string(1, tag).float(2, value).finish());
    for (const v of others) summary.bytes(1, v);
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

/** SummaryMetadata naming a TensorBoard plugin, with the plugin's content. */
function pluginMetadata(plugin: string, content?: Uint8Array): Uint8Array {
  const data = new ProtoWriter().string(1, plugin);
  if (content) data.bytes(2, content);
  return new ProtoWriter().bytes(1, data.finish()).finish();
}

/** A Summary.Value for TensorBoard's text dashboard: a scalar string tensor (shown as Markdown). */
export function textSummaryValue(tag: string, text: string): Uint8Array {
  // TensorProto: dtype DT_STRING (7), a scalar shape, string_val.
  const tensor = new ProtoWriter().int64(1, 7).bytes(2, new Uint8Array(0)).string(8, text).finish();
  return new ProtoWriter().string(1, tag).bytes(8, tensor).bytes(9, pluginMetadata('text')).finish();
}

/**
 * A Summary.Value for TensorBoard's HParams dashboard: the session-start record of one run
 * (HParamsPluginData { session_start_info { hparams } }), which the dashboard reads per run.
 */
export function hparamsSummaryValue(
  hparams: Record<string, number | string | boolean>,
  startTimeSecs: number,
): Uint8Array {
  const info = new ProtoWriter();
  for (const [k, v] of Object.entries(hparams)) {
    // google.protobuf.Value: number_value 2, string_value 3, bool_value 4.
    const value =
      typeof v === 'number'
        ? new ProtoWriter().double(2, v)
        : typeof v === 'boolean'
          ? new ProtoWriter().int64(4, v ? 1 : 0)
          : new ProtoWriter().string(3, v);
    info.bytes(1, new ProtoWriter().string(1, k).bytes(2, value.finish()).finish());
  }
  info.double(5, startTimeSecs);
  const pluginData = new ProtoWriter().bytes(3, info.finish()).finish();
  // The dashboard ignores the tensor; a scalar float 0 as TensorBoard's own writer puts there.
  const tensor = new ProtoWriter().int64(1, 1).bytes(2, new Uint8Array(0)).float(5, 0).finish();
  return new ProtoWriter()
    .string(1, '_hparams_/session_start_info')
    .bytes(8, tensor)
    .bytes(9, pluginMetadata('hparams', pluginData))
    .finish();
}

// --- protobuf decoding (enough for our own events and TensorFlow's scalar events) ---

class ProtoReader {
  pos = 0;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly where: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error(`${this.where}: truncated varint`);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error(`${this.where}: varint too long`);
    }
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.where}: truncated field`);
  }

  fixed64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  lengthDelimited(): Uint8Array {
    const n = Number(this.varint());
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.lengthDelimited();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`${this.where}: unsupported wire type ${wireType}`);
  }
}

export function decodeEvent(data: Uint8Array, where = 'event'): DecodedEvent {
  const r = new ProtoReader(data, where);
  const ev: DecodedEvent = { wallTime: 0, step: 0, scalars: {} };
  while (!r.done) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1 && wire === 1) ev.wallTime = r.fixed64();
    else if (field === 2 && wire === 0) ev.step = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 3 && wire === 2) ev.fileVersion = new TextDecoder().decode(r.lengthDelimited());
    else if (field === 5 && wire === 2) {
      const s = new ProtoReader(r.lengthDelimited(), `${where}: summary`);
      while (!s.done) {
        const k = Number(s.varint());
        if (k >>> 3 !== 1 || (k & 7) !== 2) {
          s.skip(k & 7);
          continue;
        }
        const raw = s.lengthDelimited();
        const v = new ProtoReader(raw, `${where}: summary value`);
        let tag = '';
        let value: number | undefined;
        while (!v.done) {
          const kk = Number(v.varint());
          if (kk >>> 3 === 1 && (kk & 7) === 2) tag = new TextDecoder().decode(v.lengthDelimited());
          else if (kk >>> 3 === 2 && (kk & 7) === 5) value = v.fixed32();
          else v.skip(kk & 7);
        }
        if (value !== undefined) ev.scalars[tag] = value;
        else (ev.otherValues ??= []).push(raw.slice());
      }
    } else r.skip(wire);
  }
  return ev;
}

// --- records ---

export function encodeRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskCrc(crc32c(out.subarray(0, 8))), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskCrc(crc32c(data)), true);
  return out;
}

/**
 * The records of a file, CRCs checked. A torn last record (a crash mid-write) is dropped when
 * `allowTornTail` (the default), so a resumed run can read what was fully written.
 */
export function decodeRecords(buf: Uint8Array, where: string, opts: { allowTornTail?: boolean } = {}): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const torn = (): Uint8Array[] => {
      if (opts.allowTornTail ?? true) return out;
      throw new Error(`${where}: truncated record at byte ${pos}`);
    };
    if (pos + 12 > buf.length) return torn();
    const len = Number(view.getBigUint64(pos, true));
    const lenCrc = view.getUint32(pos + 8, true);
    if (unmaskCrc(lenCrc) !== crc32c(buf.subarray(pos, pos + 8)))
      throw new Error(`${where}: bad length checksum at byte ${pos}`);
    if (pos + 12 + len + 4 > buf.length) return torn();
    const data = buf.subarray(pos + 12, pos + 12 + len);
    if (view.getUint32(pos + 12 + len, true) !== maskCrc(crc32c(data)))
      throw new Error(`${where}: bad data checksum in the record at byte ${pos}`);
    out.push(data);
    pos += 12 + len + 4;
  }
  return out;
}

export function readEventFile(file: string): DecodedEvent[] {
  const buf = fs.readFileSync(file);
  return decodeRecords(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), file).map((d, i) =>
    decodeEvent(d, `${file}: record ${i}`),
  );
}

export function isEventFile(name: string): boolean {
  return /^events\.out\.tfevents\./.test(name);
}

/**
 * Appends scalar events to a new `events.out.tfevents.<time>.<host>` file in `dir`; each call
 * writes its record straight to the file (synchronously), so a crash loses nothing written.
 */
export class EventFileWriter {
  readonly file: string;
  private fd: number | null;

  constructor(dir: string, opts: { wallTime?: number; suffix?: string } = {}) {
    fs.mkdirSync(dir, { recursive: true });
    const wallTime = opts.wallTime ?? Date.now() / 1000;
    const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost';
    let file = path.join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${host}${opts.suffix ?? ''}`);
    for (let k = 1; fs.existsSync(file); k++)
      file = path.join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${host}${opts.suffix ?? ''}.${k}`);
    this.file = file;
    this.fd = fs.openSync(file, 'a');
    this.writeData(encodeEvent({ wallTime, step: 0, fileVersion: FILE_VERSION }));
  }

  private writeData(data: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.file}: writer is closed`);
    fs.writeSync(this.fd, encodeRecord(data));
  }

  /** One event holding several scalars at a step. Non-finite values are left out. */
  addScalars(step: number, scalars: Record<string, number>, wallTime = Date.now() / 1000): void {
    const finite: Record<string, number> = {};
    for (const [k, v] of Object.entries(scalars)) if (typeof v === 'number' && Number.isFinite(v)) finite[k] = v;
    if (Object.keys(finite).length === 0) return;
    this.writeData(encodeEvent({ wallTime, step, scalars: finite }));
  }

  /** Summary values made by textSummaryValue / hparamsSummaryValue, as one event at `step`. */
  addValues(step: number, values: readonly Uint8Array[], wallTime = Date.now() / 1000): void {
    if (values.length > 0) this.writeData(encodeEvent({ wallTime, step, otherValues: values }));
  }

  /** Write events as they are (used when rewriting a log on resume). */
  addEvent(ev: DecodedEvent): void {
    this.writeData(encodeEvent(ev));
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * For a resumed run: keep only events at steps <= `step` in the event files of `dir`, so curves
 * continue from the checkpoint without a duplicated stretch. The kept events go to one new file
 * (written in full, then the old files are removed).
 */
export function truncateEventFiles(dir: string, step: number): { kept: number; dropped: number } {
  if (!fs.existsSync(dir)) return { kept: 0, dropped: 0 };
  const files = fs.readdirSync(dir).filter(isEventFile).sort();
  const kept: DecodedEvent[] = [];
  let dropped = 0;
  for (const f of files) {
    for (const ev of readEventFile(path.join(dir, f))) {
      if (ev.fileVersion !== undefined) continue;
      if (ev.step <= step) kept.push(ev);
      else dropped++;
    }
  }
  if (dropped === 0) return { kept: kept.length, dropped };
  const first = kept.length > 0 ? kept[0].wallTime : Date.now() / 1000;
  // Written aside, moved in, and only then are the old files removed: a crash at any point leaves
  // every kept event on disk. The name sorts before the files of the resumed session (TensorBoard
  // reads a folder's files in name order).
  const tmpDir = fs.mkdtempSync(path.join(dir, '.rewrite-'));
  const w = new EventFileWriter(tmpDir, { wallTime: first, suffix: `.upto-${step}` });
  for (const ev of kept) w.addEvent(ev);
  w.close();
  const target = path.join(dir, path.basename(w.file));
  fs.renameSync(w.file, target);
  for (const f of files) if (path.join(dir, f) !== target) fs.unlinkSync(path.join(dir, f));
  fs.rmSync(tmpDir, { recursive: true, force: true });
  return { kept: kept.length, dropped };
}
