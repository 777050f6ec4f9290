import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { SMALL_SAM as cfg, patternImage as image } from './small-sam';

let sam: SamModel;
let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = SamModel.fromWeights(cfg, randomSamWeights(cfg, 1), { weightsId: 'w1' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-cache-'));
});
afterAll(() => {
  sam.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an embedding is computed once, then served from memory, then from disk in a new cache', async () => {
  const cache = new EmbeddingCache(sam, { dir });
  const a = await cache.acquire(image(3));
  const b = await cache.acquire(image(3));
  expect(b).toBe(a);
  expect(cache.getStats()).toMatchObject({ computed: 1, memoryHits: 1 });
  const values = Array.from(a.embedding.dataSync());
  cache.release(a);
  cache.release(b);
  cache.clear();

  const fresh = new EmbeddingCache(sam, { dir });
  const c = await fresh.acquire(image(3));
  expect(fresh.getStats()).toMatchObject({ computed: 0, diskHits: 1 });
  expect(Array.from(c.embedding.dataSync())).toEqual(values);
  expect(c.originalSize).toEqual({ height: 16, width: 20 });
  fresh.release(c);
  fresh.clear();
});

test('keys depend on the weights, the pixels and the size', () => {
  const cache = new EmbeddingCache(sam);
  expect(cache.keyOf(image(3))).toBe(cache.keyOf(image(3)));
  expect(cache.keyOf(image(4))).not.toBe(cache.keyOf(image(3)));
  expect(cache.keyOf(image(3, 16, 20))).not.toBe(cache.keyOf(image(3, 20, 16)));
  const other = SamModel.fromWeights(cfg, randomSamWeights(cfg, 1), { weightsId: 'w2' });
  expect(new EmbeddingCache(other).keyOf(image(3))).not.toBe(cache.keyOf(image(3)));
  other.dispose();
});

test('memory is bounded, and pinned embeddings are never evicted', async () => {
  const cache = new EmbeddingCache(sam, { maxInMemory: 2 });
  const pinned = await cache.acquire(image(10));
  for (let v = 11; v < 16; v++) cache.release(await cache.acquire(image(v)));
  expect(cache.getStats().inMemory).toBe(2);
  expect(pinned.isDisposed).toBe(false);
  expect(pinned.embedding.shape).toEqual([4, 4, 16]);
  cache.release(pinned);
  cache.clear();
  expect(cache.getStats().inMemory).toBe(0);
  expect(pinned.isDisposed).toBe(true);
});

test('a stale disk file from other weights is recomputed, not trusted', async () => {
  const d2 = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-cache2-'));
  const c1 = new EmbeddingCache(sam, { dir: d2 });
  await c1.warm(image(7));
  c1.clear();
  // Same weightsId string but a file claiming other weights: rewrite its metadata.
  const other = SamModel.fromWeights(cfg, randomSamWeights(cfg, 2), { weightsId: 'w1' });
  const file = fs.readdirSync(d2)[0];
  const { readSafetensors, writeSafetensors } = await import('../../src/io/safetensors');
  const st = await readSafetensors(path.join(d2, file));
  await writeSafetensors(path.join(d2, file), st.tensors, { ...st.metadata, weights_id: 'someone-else' });
  const c2 = new EmbeddingCache(other, { dir: d2 });
  const e = await c2.acquire(image(7));
  expect(c2.getStats().computed).toBe(1);
  c2.release(e);
  c2.clear();
  other.dispose();
  fs.rmSync(d2, { recursive: true, force: true });
});

test('concurrent acquires with a small memory bound never evict an embedding before it is pinned', async () => {
  // Started together, the acquires' computations finish in the same microtask run: one call's
  // eviction must not remove (and dispose) another call's fresh, not-yet-pinned entry.
  const images = [11, 12, 13, 14, 15, 16].map((v) => image(v));
  const cache = new EmbeddingCache(sam, { maxInMemory: 2 });
  const embs = await Promise.all([...images, ...images.slice(0, 3)].map((im) => cache.acquire(im)));
  for (const e of embs) expect(e.isDisposed).toBe(false);
  expect(embs[6]).toBe(embs[0]);
  expect(cache.getStats()).toMatchObject({ computed: 6, inMemory: 6 }); // all pinned, above the bound
  for (const e of embs) cache.release(e);
  expect(cache.getStats().inMemory).toBe(2);
  cache.clear();
});
