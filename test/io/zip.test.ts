import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { crc32, looksLikeZip, ZipReader } from '../../src/io/zip';
import { buildZip } from './helpers/zip-writer';

const PTH_FIXTURE = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny/weights.pth');

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 5)) & 0xff;
  return out;
}

describe('zip reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test.each([false, true])('reads stored and deflated entries from a file (zip64 records: %s)', async (zip64) => {
    const a = pattern(5000, 1);
    const b = pattern(70000, 2);
    const file = path.join(dir, 'x.zip');
    fs.writeFileSync(
      file,
      buildZip(
        [
          { name: 'arc/a.bin', data: a },
          { name: 'arc/b.bin', data: b, method: 'deflate' },
          { name: 'arc/empty', data: new Uint8Array(0) },
        ],
        { zip64, prefix: Buffer.from('some leading bytes'), comment: Buffer.from('PK\x05\x06 not a record') },
      ),
    );
    const zip = await ZipReader.open(file);
    try {
      expect(zip.entries.map((e) => e.name)).toEqual(['arc/a.bin', 'arc/b.bin', 'arc/empty']);
      expect(zip.entry('arc/b.bin')?.method).toBe(8);
      expect(zip.entry('arc/b.bin')?.uncompressedSize).toBe(70000);
      expect(Buffer.compare(await zip.read('arc/a.bin'), a)).toBe(0);
      expect(Buffer.compare(await zip.read('arc/b.bin'), b)).toBe(0);
      expect((await zip.read('arc/empty')).length).toBe(0);
      await expect(zip.read('arc/missing')).rejects.toThrow(/x\.zip: no zip entry 'arc\/missing'/);
      // The same bytes synchronously.
      expect(Buffer.compare(zip.readSync('arc/a.bin'), a)).toBe(0);
      expect(Buffer.compare(zip.readSync('arc/b.bin'), b)).toBe(0);
      expect(zip.readSync('arc/empty').length).toBe(0);
      expect(() => zip.readSync('arc/missing')).toThrow(/x\.zip: no zip entry 'arc\/missing'/);
    } finally {
      await zip.close();
    }
  });

  test('reads the archive torch wrote for the fixture', async () => {
    const zip = await ZipReader.open(PTH_FIXTURE);
    try {
      expect(zip.entries.length).toBe(176);
      expect(new TextDecoder().decode(await zip.read('weights/version')).trim()).toBe('3');
      const pkl = await zip.read('weights/data.pkl');
      expect(pkl[0]).toBe(0x80);
      expect(pkl[pkl.length - 1]).toBe(0x2e);
    } finally {
      await zip.close();
    }
  });

  test('detects corrupted data through the CRC', async () => {
    const data = pattern(1000, 3);
    const bytes = buildZip([{ name: 'd', data }]);
    bytes[30 + 1 + 500] ^= 0xff; // local header (30) + name (1) + offset into data
    const zip = await ZipReader.fromBytes(bytes, 'corrupt.zip');
    await expect(zip.read('d')).rejects.toThrow(/corrupt\.zip: zip entry 'd': CRC-32 mismatch/);
    expect(() => zip.readSync('d')).toThrow(/corrupt\.zip: zip entry 'd': CRC-32 mismatch/);
    expect((await zip.read('d', { verifyCrc: false })).length).toBe(1000);
  });

  test('refuses unsupported methods, encryption, and non-zip data', async () => {
    const zip = await ZipReader.fromBytes(
      buildZip([
        { name: 'bz', data: pattern(10, 1), methodNumber: 12 },
        { name: 'enc', data: pattern(10, 2), flags: 0x1 },
      ]),
      'odd.zip',
    );
    await expect(zip.read('bz')).rejects.toThrow(/odd\.zip: zip entry 'bz' uses compression method 12/);
    await expect(zip.read('enc')).rejects.toThrow(/'enc' is encrypted/);
    await expect(ZipReader.fromBytes(pattern(100, 4), 'junk.bin')).rejects.toThrow(/junk\.bin: not a zip archive/);
    expect(looksLikeZip(buildZip([{ name: 'a', data: pattern(3, 1) }]))).toBe(true);
    expect(looksLikeZip(pattern(4, 9))).toBe(false);
  });

  test('a deflate entry that inflates beyond its declared size is refused', async () => {
    const bytes = buildZip([{ name: 'bomb', data: new Uint8Array(100000), method: 'deflate' }]);
    // Shrink the declared uncompressed size in the central directory (offset 24 of the entry).
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const cdOffset = view.getUint32(bytes.length - 22 + 16, true);
    view.setUint32(cdOffset + 24, 1000, true);
    const zip = await ZipReader.fromBytes(bytes, 'bomb.zip');
    await expect(zip.read('bomb')).rejects.toThrow(/bomb\.zip: zip entry 'bomb'/);
  });
});
