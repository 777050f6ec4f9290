import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJsonFile, readJsonFileSync, writeJsonFile, writeJsonFileAtomic } from '../../src/io/json-file';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'json-file-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('JSON files', () => {
  it('round-trips a value, pretty-printed with a final newline', async () => {
    const file = path.join(root, 'a.json');
    await writeJsonFile(file, { a: [1, 2], b: 'x' });
    expect(await fsp.readFile(file, 'utf8')).toBe('{\n  "a": [\n    1,\n    2\n  ],\n  "b": "x"\n}\n');
    expect(await readJsonFile(file)).toEqual({ a: [1, 2], b: 'x' });
    expect(readJsonFileSync(file)).toEqual({ a: [1, 2], b: 'x' });
  });

  it('names the file when it cannot be read or does not parse', async () => {
    const missing = path.join(root, 'none.json');
    await expect(readJsonFile(missing)).rejects.toThrow(/none\.json: cannot read \(ENOENT/);
    expect(() => readJsonFileSync(missing)).toThrow(/none\.json: cannot read \(ENOENT/);
    const bad = path.join(root, 'bad.json');
    await fsp.writeFile(bad, '{"a": ');
    await expect(readJsonFile(bad)).rejects.toThrow(/bad\.json: invalid JSON/);
    expect(() => readJsonFileSync(bad)).toThrow(/bad\.json: invalid JSON/);
  });

  it('replaces a file atomically and leaves it as it was when the value cannot be written', async () => {
    const file = path.join(root, 'b.json');
    await writeJsonFileAtomic(file, { step: 1 });
    await writeJsonFileAtomic(file, { step: 2 });
    expect(await readJsonFile(file)).toEqual({ step: 2 });
    await expect(writeJsonFileAtomic(file, { n: BigInt(3) })).rejects.toThrow(/BigInt/);
    expect(await readJsonFile(file)).toEqual({ step: 2 });
    expect((await fsp.readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
