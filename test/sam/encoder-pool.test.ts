/**
 * The encoder pool: worker threads give the same embedding bytes as the calling thread, a failure
 * names the image, and a pool nobody closed does not keep a finished program alive.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import type { RgbImage } from '../../src/data/types';
import { EmbeddingCache } from '../../src/sam/embedding-cache';
import { EncoderPool, defaultEncoderWorkers } from '../../src/sam/encoder-pool';
import { encodeImage } from '../../src/sam/image-encoding';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { loadSam } from '../../src/sam/pretrained';

const ROOT = path.resolve(__dirname, '../..');
const MICRO = path.join(ROOT, 'models', 'micro-sam');

function image(seed: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

let sam: SamModel;
let tmp: string;
beforeAll(async () => {
  await initBackend('wasm');
  sam = await loadSam(MICRO);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'encoder-pool-'));
});
afterAll(() => {
  sam?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('two workers give the bytes the calling thread gives, for images of several sizes', async () => {
  const images = [image(1, 40, 30), image(2, 30, 40), image(3, 128, 128), image(4, 200, 90), image(5, 17, 17)];
  const pool = new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 2, weightsId: sam.weightsId });
  try {
    const fromPool = await Promise.all(images.map((im, i) => pool.encode(im, `img${i}`)));
    images.forEach((im, i) => {
      const here = encodeImage(sam, im);
      try {
        expect(fromPool[i].shape).toEqual(here.embedding.shape);
        expect(fromPool[i].inputSize).toEqual(here.inputSize);
        expect(fromPool[i].originalSize).toEqual(here.originalSize);
        expect(bytes(fromPool[i].data).equals(bytes(here.embedding.dataSync() as Float32Array))).toBe(true);
      } finally {
        here.dispose();
      }
    });
  } finally {
    await pool.close();
  }
});

test('a cache with a pool writes the same files as one without', async () => {
  const images = [image(11, 64, 48), image(12, 48, 64), image(13, 90, 90)];
  const pool = new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 2, weightsId: sam.weightsId });
  const withPool = new EmbeddingCache(sam, { dir: path.join(tmp, 'pool'), encoder: pool });
  const alone = new EmbeddingCache(sam, { dir: path.join(tmp, 'alone') });
  try {
    const keys = await Promise.all(images.map((im, i) => withPool.warm(im, `img${i}`)));
    for (const im of images) await alone.warm(im);
    expect(withPool.getStats().computed).toBe(3);
    for (const key of keys) {
      const a = fs.readFileSync(path.join(tmp, 'pool', `${key}.safetensors`));
      const b = fs.readFileSync(path.join(tmp, 'alone', `${key}.safetensors`));
      expect(a.equals(b)).toBe(true);
    }
  } finally {
    withPool.clear();
    alone.clear();
    await pool.close();
  }
});

test('a failure names the image, and a pool refuses the weights of another model', async () => {
  expect(
    () =>
      new EmbeddingCache(sam, {
        encoder: new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 1, weightsId: 'other' }),
      }),
  ).toThrow(/the encoder pool's weights \(other\) are not the model's/);
  const replaced = new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 1, weightsId: 'other' });
  await expect(replaced.encode(image(1, 20, 20), 'scene-7.png')).rejects.toThrow(
    /^scene-7\.png: every encoder worker stopped \(worker 0 loaded weights [0-9a-f]+ from .*micro-sam, not the expected other/,
  );
  await expect(replaced.encode(image(1, 20, 20), 'scene-8.png')).rejects.toThrow(
    /^scene-8\.png: every encoder worker stopped/,
  );
  await replaced.close();

  const garbage = path.join(tmp, 'garbage.safetensors');
  fs.writeFileSync(garbage, 'not a safetensors file');
  const broken = new EncoderPool({ checkpoint: garbage, config: sam.config, workers: 2 });
  const results = await Promise.allSettled([
    broken.encode(image(1, 20, 20), 'a.png'),
    broken.encode(image(2, 20, 20), 'b.png'),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(
    /a\.png: .*could not load .*garbage\.safetensors/,
  );
  expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/b\.png: /);
  await expect(broken.ready()).rejects.toThrow(/encoder worker [01] could not load .*garbage\.safetensors/);
  await broken.close();

  const pool = new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 1 });
  await expect(pool.encode({ width: 4, height: 4, data: new Uint8Array(5) }, 'short.png')).rejects.toThrow(
    /short\.png: 4x4 RGB needs 48 bytes, got 5/,
  );
  await pool.close();
  await expect(pool.encode(image(1, 20, 20), 'late.png')).rejects.toThrow(/late\.png: the encoder pool is closed/);
});

test('a pool nobody closed lets a finished program exit', () => {
  const script = [
    "const { initBackend } = require('./src/backend');",
    "const { loadSam } = require('./src/sam/pretrained');",
    "const { EncoderPool } = require('./src/sam/encoder-pool');",
    '(async () => {',
    "  await initBackend('wasm');",
    `  const sam = await loadSam(${JSON.stringify(MICRO)});`,
    `  const pool = new EncoderPool({ checkpoint: ${JSON.stringify(MICRO)}, config: sam.config, workers: 2 });`,
    // Waiting for the workers to load must hold the program open, as encoding does.
    '  await pool.ready();',
    '  const images = [1, 2, 3].map((v) => ({ width: 8, height: 8, data: new Uint8Array(192).fill(v) }));',
    "  const r = await Promise.all(images.map((im, i) => pool.encode(im, 'img' + i)));",
    "  console.log('encoded', r.length, r[0].shape.join('x'));",
    '})();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(r.error).toBeUndefined();
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.stdout).toContain('encoded 3 16x16x64');
  expect(r.status).toBe(0);
});

test('the default is one worker per core, fewer when memory is short', () => {
  const n = defaultEncoderWorkers(MICRO, sam.config);
  expect(n).toBeGreaterThanOrEqual(1);
  expect(n).toBeLessThanOrEqual(os.availableParallelism());
  expect(() => new EncoderPool({ checkpoint: MICRO, config: sam.config, backend: 'tensorflow' })).toThrow(
    /'tensorflow' backend already uses every core/,
  );
  expect(() => new EncoderPool({ checkpoint: MICRO, config: sam.config, workers: 0 })).toThrow(
    /workers must be an integer >= 1, got 0/,
  );
});
