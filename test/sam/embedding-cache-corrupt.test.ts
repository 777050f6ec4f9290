/**
 * A damaged file in the disk cache (cut short, bytes changed, values not finite) is noticed when
 * read, reported, recomputed and replaced; it never counts as cached.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { SMALL_SAM as cfg, patternImage as image } from './small-sam';

let sam: SamModel;
let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = SamModel.fromWeights(cfg, randomSamWeights(cfg, 1), { weightsId: 'w1' });
});
afterAll(() => sam.dispose());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-corrupt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Fill the cache with one image; returns its file, the file's bytes and the embedding values. */
async function cached(v: number): Promise<{ file: string; bytes: Buffer; values: number[] }> {
  const cache = new EmbeddingCache(sam, { dir });
  const e = await cache.acquire(image(v));
  const values = Array.from(e.embedding.dataSync());
  cache.release(e);
  cache.clear();
  const file = path.join(dir, `${cache.keyOf(image(v))}.safetensors`);
  return { file, bytes: fs.readFileSync(file), values };
}

const damages: Array<[string, (file: string, bytes: Buffer) => Promise<void> | void]> = [
  ['cut short', (file, bytes) => fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100))],
  [
    'one byte changed',
    (file, bytes) => {
      const b = Buffer.from(bytes);
      b[b.length - 10] ^= 0x40;
      fs.writeFileSync(file, b);
    },
  ],
  ['empty', (file) => fs.writeFileSync(file, '')],
  [
    'not finite (a file without a checksum)',
    async (file) => {
      const st = await readSafetensors(file);
      const t = st.tensors.get('embedding')!;
      const data = Float32Array.from(t.data as Float32Array);
      data[5] = NaN;
      const { crc32c, ...meta } = st.metadata;
      void crc32c;
      await writeSafetensors(file, new Map([['embedding', { ...t, data }]]), meta);
    },
  ],
];

describe.each(damages)('a cached embedding file that is %s', (_, damage) => {
  it('is not counted as cached, and is recomputed and replaced with a warning naming the file', async () => {
    const { file, bytes, values } = await cached(3);
    await damage(file, bytes);
    const warnings: string[] = [];
    const cache = new EmbeddingCache(sam, { dir, onWarning: (m) => warnings.push(m) });
    expect(cache.hasOnDisk(image(3))).toBe(false);
    const e = await cache.acquire(image(3));
    expect(Array.from(e.embedding.dataSync())).toEqual(values);
    expect(cache.getStats()).toMatchObject({ computed: 1, diskHits: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toMatch(/recomput/);
    cache.release(e);
    cache.clear();
    // The file is whole again.
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(cache.hasOnDisk(image(3))).toBe(true);
  });

  it('is repaired by warm (what `alignsam embed` runs)', async () => {
    const { file, bytes } = await cached(4);
    await damage(file, bytes);
    const warnings: string[] = [];
    const cache = new EmbeddingCache(sam, { dir, onWarning: (m) => warnings.push(m) });
    await cache.warm(image(4));
    expect(cache.getStats().computed).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    cache.clear();
  });

  it('is refused by acquireKey (no image to recompute from), naming the file', async () => {
    const { file, bytes } = await cached(5);
    await damage(file, bytes);
    const cache = new EmbeddingCache(sam, { dir, onWarning: () => undefined });
    await expect(cache.acquireKey(cache.keyOf(image(5)))).rejects.toThrow(file);
  });
});

it('a whole file is trusted: no warning, no recomputation', async () => {
  await cached(6);
  const warnings: string[] = [];
  const cache = new EmbeddingCache(sam, { dir, onWarning: (m) => warnings.push(m) });
  expect(cache.hasOnDisk(image(6))).toBe(true);
  cache.release(await cache.acquire(image(6)));
  expect(cache.getStats()).toMatchObject({ computed: 0, diskHits: 1 });
  expect(warnings).toEqual([]);
  cache.clear();
});
