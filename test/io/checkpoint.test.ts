import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { detectCheckpointFormat, openCheckpoint, readCheckpoint } from '../../src/io/checkpoint';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny');

describe('readCheckpoint', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('tells the format from the bytes, not the file name', async () => {
    const pthCopy = path.join(dir, 'weights.safetensors');
    fs.copyFileSync(path.join(FIXTURES, 'weights.pth'), pthCopy);
    const stCopy = path.join(dir, 'weights.pth');
    fs.copyFileSync(path.join(FIXTURES, 'weights.safetensors'), stCopy);
    expect(await detectCheckpointFormat(pthCopy)).toBe('pth');
    expect(await detectCheckpointFormat(stCopy)).toBe('safetensors');
    const a = await readCheckpoint(pthCopy);
    const b = await readCheckpoint(stCopy);
    expect(a.format).toBe('pth');
    expect(b.format).toBe('safetensors');
    expect([...a.tensors.keys()]).toEqual([...b.tensors.keys()]);
  });

  test.each(['weights.pth', 'weights.safetensors'])(
    'openCheckpoint reads %s one tensor at a time: the tensors readCheckpoint reads, each owning its bytes',
    async (file) => {
      const { tensors } = await readCheckpoint(path.join(FIXTURES, file));
      const { reader } = await openCheckpoint(path.join(FIXTURES, file));
      try {
        expect([...reader.entries]).toEqual(
          [...tensors].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }]),
        );
        for (const [name, t] of tensors) {
          const read = reader.readSync(name);
          expect(read).toEqual(t);
          expect(read.data.byteOffset).toBe(0);
          expect(read.data.buffer.byteLength).toBe(read.data.byteLength);
        }
      } finally {
        await reader.close();
      }
    },
  );

  test('legacy torch files get the conversion hint; junk fails naming the file', async () => {
    const legacy = path.join(dir, 'old.bin');
    fs.writeFileSync(legacy, Buffer.from('80028a0a6cfc9c46f9206aa85019e803', 'hex'));
    await expect(readCheckpoint(legacy)).rejects.toThrow(/old\.bin: legacy \(pre-1\.6\)/);
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, 'this is not a checkpoint at all');
    await expect(readCheckpoint(junk)).rejects.toThrow(/junk\.bin: header length \d+ exceeds the file/);
  });
});
