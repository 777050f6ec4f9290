/** `alignsam embed` on a few synthetic scenes with the micro-SAM: what its progress line counts. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runMain } from './run-cli';

const ROOT = path.resolve(__dirname, '../..');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-embed-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('alignsam embed', () => {
  it('reports its rate in samples/s, the unit it counts', async () => {
    const cache = path.join(tmp, 'cache');
    const sets = [`env.embedding_cache.dir=${cache}`, 'data.synthetic.length=2', 'data.synthetic.eval_length=1'].flatMap((s) => ['--set', s]);
    const r = await runMain(['embed', '-c', path.join(ROOT, 'configs', 'synthetic-ppo.yaml'), '--backend', 'wasm', ...sets]);
    expect(r.stderr).not.toMatch(/alignsam:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ 3\/3 [0-9.]+ samples\/s /);
    expect(r.stderr).not.toContain('images/s');
    expect(r.stdout).toContain('3 samples, 3 encoded, 0 already cached');
  });
});
