import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32c, maskCrc, unmaskCrc } from '../../src/io/crc32c';
import {
  decodeEvent,
  decodeRecords,
  encodeEvent,
  encodeRecord,
  EventFileWriter,
  FILE_VERSION,
  hparamsSummaryValue,
  isEventFile,
  readEventFile,
  textSummaryValue,
  truncateEventFiles,
} from '../../src/runs/tfevents';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the standard check value and the RFC 3720 (iSCSI) vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('continues over split input', () => {
    const all = ascii('The quick brown fox jumps over the lazy dog');
    expect(crc32c(all.subarray(10), crc32c(all.subarray(0, 10)))).toBe(crc32c(all));
  });

  it('masks and unmasks', () => {
    for (const c of [0, 1, 0xe3069283, 0xffffffff, 0x12345678]) expect(unmaskCrc(maskCrc(c))).toBe(c);
    // TensorFlow's definition: ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32).
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0x8000)).toBe((1 + 0xa282ead8) >>> 0);
  });
});

describe('tfevents', () => {
  it('encodes the protobuf fields by hand as TensorFlow does', () => {
    const bytes = encodeEvent({ wallTime: 1.5, step: 3, scalars: { a: 2 } });
    // wall_time: tag 0x09 + double LE; step: tag 0x10 + varint; summary: tag 0x2a + length ...
    expect(Array.from(bytes.subarray(0, 9))).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    expect(Array.from(bytes.subarray(9, 11))).toEqual([0x10, 3]);
    // Summary{ Value{ tag "a" (0x0a 1 'a'), simple_value 2.0f (0x15 00 00 00 40) } }
    expect(Array.from(bytes.subarray(11))).toEqual([0x2a, 10, 0x0a, 8, 0x0a, 1, 0x61, 0x15, 0, 0, 0, 0x40]);
  });

  it('frames records with masked CRCs of the length and the data', () => {
    const data = ascii('hello');
    const rec = encodeRecord(data);
    const view = new DataView(rec.buffer);
    expect(Number(view.getBigUint64(0, true))).toBe(5);
    expect(view.getUint32(8, true)).toBe(maskCrc(crc32c(rec.subarray(0, 8))));
    expect(view.getUint32(17, true)).toBe(maskCrc(crc32c(data)));
    expect(decodeRecords(rec, 'x')).toEqual([data]);
    const bad = rec.slice();
    bad[13] ^= 1;
    expect(() => decodeRecords(bad, 'x.tfevents')).toThrow(/x\.tfevents: bad data checksum/);
  });

  it('writes a file that decodes back to the same scalars, large steps included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfevents-'));
    const w = new EventFileWriter(dir, { wallTime: 1000 });
    w.addScalars(10, { 'train/loss': 0.25, 'rollout/ep_rew_mean': -3.5 }, 1001);
    w.addScalars(2 ** 40, { 'eval/miou': 0.75, skipped: NaN }, 1002);
    w.close();
    expect(path.basename(w.file)).toMatch(/^events\.out\.tfevents\.1000\./);
    const events = readEventFile(w.file);
    expect(events[0]).toMatchObject({ fileVersion: FILE_VERSION, wallTime: 1000, step: 0 });
    expect(events[1]).toEqual({
      wallTime: 1001,
      step: 10,
      scalars: { 'train/loss': 0.25, 'rollout/ep_rew_mean': -3.5 },
    });
    expect(events[2]).toEqual({ wallTime: 1002, step: 2 ** 40, scalars: { 'eval/miou': 0.75 } });
  });

  it('drops a torn last record, as after a crash mid-write', () => {
    const a = encodeRecord(encodeEvent({ wallTime: 1, step: 1, scalars: { x: 1 } }));
    const b = encodeRecord(encodeEvent({ wallTime: 2, step: 2, scalars: { x: 2 } }));
    const torn = new Uint8Array(a.length + b.length - 3);
    torn.set(a);
    torn.set(b.subarray(0, b.length - 3), a.length);
    const recs = decodeRecords(torn, 'x');
    expect(recs.map((r) => decodeEvent(r).step)).toEqual([1]);
    expect(() => decodeRecords(torn, 'x', { allowTornTail: false })).toThrow(/truncated record/);
  });

  it('truncates event files to a step on resume, keeping each event once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfevents-'));
    const w = new EventFileWriter(dir, { wallTime: 1000 });
    for (const step of [100, 200, 300, 400]) w.addScalars(step, { v: step / 100 }, 1000 + step);
    w.close();
    expect(truncateEventFiles(dir, 250)).toEqual({ kept: 2, dropped: 2 });
    const w2 = new EventFileWriter(dir, { wallTime: 2000 });
    w2.addScalars(300, { v: 30 }, 2001);
    w2.close();
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('events.out.tfevents.'))
      .sort();
    expect(files).toHaveLength(2);
    const all = files.flatMap((f) => readEventFile(path.join(dir, f))).filter((e) => e.fileVersion === undefined);
    expect(all.map((e) => [e.step, e.scalars.v])).toEqual([
      [100, 1],
      [200, 2],
      [300, 30],
    ]);
  });
});

describe('text and hparams summaries', () => {
  it('are written as summary values that survive the resume rewrite byte for byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-tb-'));
    try {
      const text = textSummaryValue('config', 'env:\n  grid_size: 16\n');
      const hp = hparamsSummaryValue({ 'env.grid_size': 16, 'agent.algo': 'ppo', 'env.mask_input': true }, 1000);
      const w = new EventFileWriter(dir, { wallTime: 1000 });
      w.addValues(0, [text, hp], 1000);
      w.addScalars(5, { 'eval/final_iou': 0.5 }, 1001);
      w.addScalars(9, { 'eval/final_iou': 0.6 }, 1002);
      w.close();
      const before = readEventFile(w.file).filter((e) => e.fileVersion === undefined);
      expect(before[0].otherValues).toEqual([text, hp]);
      expect(new TextDecoder().decode(text)).toContain('grid_size: 16');
      expect(new TextDecoder().decode(hp)).toContain('_hparams_/session_start_info');
      expect(new TextDecoder().decode(hp)).toContain('agent.algo');
      expect(truncateEventFiles(dir, 5)).toEqual({ kept: 2, dropped: 1 });
      const files = fs.readdirSync(dir).filter(isEventFile);
      expect(files).toHaveLength(1);
      const after = readEventFile(path.join(dir, files[0])).filter((e) => e.fileVersion === undefined);
      expect(after.map((e) => e.step)).toEqual([0, 5]);
      expect(after[0].otherValues).toEqual([text, hp]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
