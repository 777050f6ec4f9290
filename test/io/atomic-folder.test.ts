import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFolderAtomic } from '../../src/io/atomic-folder';

describe('writeFolderAtomic', () => {
  let root = '';
  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'atomic-'));
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('creates, replaces, and leaves the old folder intact (and no temp) when writing fails', async () => {
    const dir = path.join(root, 'ckpt');
    await writeFolderAtomic(dir, async (tmp) => fsp.writeFile(path.join(tmp, 'a.txt'), 'one'));
    expect(await fsp.readFile(path.join(dir, 'a.txt'), 'utf8')).toBe('one');

    await writeFolderAtomic(dir, async (tmp) => fsp.writeFile(path.join(tmp, 'b.txt'), 'two'));
    expect((await fsp.readdir(dir)).sort()).toEqual(['b.txt']);

    await expect(
      writeFolderAtomic(dir, async (tmp) => {
        await fsp.writeFile(path.join(tmp, 'c.txt'), 'partial');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect((await fsp.readdir(dir)).sort()).toEqual(['b.txt']);
    expect(await fsp.readdir(root)).toEqual(['ckpt']);
  });
});
