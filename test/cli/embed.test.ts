/** `alignsam embed` on a small mask folder with the micro-SAM: what its progress line counts. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writePng } from '../../src/data/image-io';
import { runMain } from './run-cli';

let tmp: string;
let config: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-embed-'));
  // Two images with 3 and 2 instances: 5 samples, 2 images to encode.
  const W = 32;
  for (const [name, instances, v] of [
    ['a', 3, 7],
    ['b', 2, 11],
  ] as const) {
    await writePng(path.join(tmp, 'data', 'images', `${name}.png`), {
      width: W,
      height: W,
      data: new Uint8Array(W * W * 3).map((_, i) => (i * v) % 251),
    });
    const mask = new Uint8Array(W * W).map((_, i) => Math.floor((i % W) / Math.ceil(W / instances)) + 1);
    await writePng(path.join(tmp, 'data', 'masks', `${name}.png`), { width: W, height: W, channels: 1, data: mask });
  }
  config = path.join(tmp, 'config.yaml');
  fs.writeFileSync(
    config,
    [
      'sam: { checkpoint: micro, backend: wasm }',
      'data:',
      '  type: folder',
      `  folder: { root: ${JSON.stringify(path.join(tmp, 'data'))}, mask_format: instances, target: instance }`,
      '  split: { val_fraction: 0.4, test_fraction: 0 }',
      `env: { embedding_cache: { dir: ${JSON.stringify(path.join(tmp, 'cache'))} } }`,
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('alignsam embed', () => {
  it('counts samples and images apart, and reports its rate per image', async () => {
    const r = await runMain(['embed', '-c', config]);
    expect(r.stderr).not.toMatch(/alignsam:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ 5\/5 [0-9.]+ samples\/s .*\| 2 images \(2 encoded, 0 cached\) [0-9.]+ images\/s/);
    expect(r.stdout).toMatch(/: 5 samples, 2 images: 2 encoded, 0 already cached, in [0-9.]+ s \([0-9.]+ images\/s\)/);
    expect(fs.readdirSync(path.join(tmp, 'cache'))).toHaveLength(2);

    const again = await runMain(['embed', '-c', config]);
    expect(again.stdout).toMatch(/: 5 samples, 2 images: 0 encoded, 2 already cached/);
  });

  it('fills the cache with the same bytes on one thread and on two workers', async () => {
    const files = async (workers: number) => {
      const dir = path.join(tmp, `cache-${workers}`);
      const r = await runMain([
        'embed',
        '-c',
        config,
        '--workers',
        String(workers),
        '--set',
        `env.embedding_cache.dir=${JSON.stringify(dir)}`,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(workers === 1 ? 'encoding on this thread' : `encoding on ${workers} worker threads`);
      expect(r.stdout).toMatch(/: 5 samples, 2 images: 2 encoded, 0 already cached/);
      return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
    };
    const one = await files(1);
    const two = await files(2);
    expect([...two.keys()].sort()).toEqual([...one.keys()].sort());
    for (const [f, bytes] of one) expect(two.get(f)!.equals(bytes)).toBe(true);
  });

  it('refuses a worker count that is not a positive integer, before loading anything', async () => {
    const r = await runMain(['embed', '-c', config, '--workers', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--workers must be an integer >= 1, got 0/);
  });
});
