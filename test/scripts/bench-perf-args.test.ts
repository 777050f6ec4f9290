/** bench:perf refuses bad input before it measures or writes anything (nothing here measures). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

function benchPerf(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'scripts', 'bench-perf.ts'), ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, stderr: r.stderr };
}

describe('bench:perf', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-perf-args-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names a bad option', () => {
    const r = benchPerf(['--only', 'micro', '--rounds', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('bench:perf: --rounds must be an integer >= 1, got 0');
  });

  it('with --write, refuses a page without the markers or bad stored data before measuring', () => {
    const doc = path.join(dir, 'performance.md');
    const data = path.join(dir, 'performance.json');
    fs.writeFileSync(doc, '# Performance\n');
    const r = benchPerf(['--only', 'micro', '--write', '--doc', doc, '--data', data]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${doc}: the markers`);
    expect(fs.existsSync(data)).toBe(false);
    expect(r.stderr).not.toContain('=== micro');

    fs.writeFileSync(
      data,
      JSON.stringify({ format: 'alignsam-tfjs/performance', formatVersion: 1, presets: 3, peers: null }),
    );
    expect(benchPerf(['--render', '--doc', doc, '--data', data]).stderr).toContain(
      `${data}: presets: expected a list, got 3`,
    );
    expect(fs.readFileSync(doc, 'utf8')).toBe('# Performance\n');
  });
});
