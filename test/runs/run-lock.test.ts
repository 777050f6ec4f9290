import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveConfig } from '../../src/config/load-config';
import { createRunDirLocked, openRunDirLocked } from '../../src/runs/run-dir';
import { acquireRunLock, RUN_LOCK_NAME, RunLockedError } from '../../src/runs/run-lock';

const ROOT = path.resolve(__dirname, '../..');
let tmp = '';
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'run-lock-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

function writeLock(dir: string, pid: number): void {
  fs.writeFileSync(
    path.join(dir, RUN_LOCK_NAME),
    JSON.stringify({ pid, host: os.hostname(), started: 'then', token: 'abc' }),
  );
}

/** A second process that takes the lock of `dir` and holds it until killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const code = `require(${JSON.stringify(path.join(ROOT, 'src/runs/run-lock.ts'))}).acquireRunLock(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (c) => reject(new Error(`holder exited with ${c}`)));
  });
  return child;
}

describe('run folder lock', () => {
  it('refuses a second writer while the first runs, and takes over the lock once it was killed with -9', async () => {
    const child = await holder(tmp);
    try {
      let err: unknown;
      try {
        acquireRunLock(tmp);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RunLockedError);
      expect((err as Error).message).toContain(`in use by process ${child.pid}`);
      expect((err as Error).message).toContain(path.join(tmp, RUN_LOCK_NAME));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const warnings: string[] = [];
    const lock = acquireRunLock(tmp, { log: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(new RegExp(`stale lock of process ${child.pid}`));
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
  }, 30000);

  it('the same process cannot take a run twice; released, it can', () => {
    const a = acquireRunLock(tmp);
    expect(() => acquireRunLock(tmp)).toThrow(RunLockedError);
    a.release();
    a.release();
    const b = acquireRunLock(tmp);
    b.release();
  });

  it('a stale or unreadable lock is replaced, with a warning', () => {
    writeLock(tmp, deadPid());
    const warnings: string[] = [];
    acquireRunLock(tmp, { log: (m) => warnings.push(m) }).release();
    expect(warnings).toHaveLength(1);
    fs.writeFileSync(path.join(tmp, RUN_LOCK_NAME), 'garbage');
    acquireRunLock(tmp, { log: (m) => warnings.push(m) }).release();
    expect(warnings[1]).toMatch(/unreadable lock file replaced/);
  });

  it('releasing leaves a lock that another process took over in place', () => {
    const a = acquireRunLock(tmp);
    // As if the lock had been judged stale and taken over meanwhile.
    writeLock(tmp, process.pid);
    a.release();
    expect(fs.existsSync(path.join(tmp, RUN_LOCK_NAME))).toBe(true);
  });

  it('createRunDirLocked and openRunDirLocked hold the lock; a second opener is refused naming the process', () => {
    const config = resolveConfig({ env: { label_source: 'oracle' }, run: { dir: tmp, name: 'r1' } }, 'x.yaml');
    const created = createRunDirLocked(config, null);
    expect(fs.existsSync(created.paths.config)).toBe(true);
    expect(() => openRunDirLocked(created.paths.root)).toThrow(new RegExp(`in use by process ${process.pid}`));
    // The same run name started again is refused too (the folder exists).
    expect(() => createRunDirLocked(config, null)).toThrow(/already exists/);
    created.lock.release();
    const opened = openRunDirLocked(created.paths.root);
    expect(opened.config.run.name).toBe('r1');
    opened.lock.release();
    expect(() => openRunDirLocked(path.join(tmp, 'nothing'))).toThrow(/not a run folder/);
    expect(fs.existsSync(path.join(tmp, 'nothing'))).toBe(false);
  });
});
