/**
 * One writer per run folder. A training process holds `<run>/run.lock` (JSON: pid, host, start
 * time, a random token) from before it reads the run's config and checkpoints until it ends; a
 * second `train` or `--resume` of the same folder is refused while that process lives. A lock
 * left by a process that no longer runs (kill -9, power loss) is stale and is replaced.
 *
 * The lock file appears complete or not at all (written aside, then hard-linked into place, which
 * fails when a lock exists), so a reader never sees half a lock.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const RUN_LOCK_NAME = 'run.lock';

export interface RunLockInfo {
  pid: number;
  host: string;
  started: string;
  token: string;
}

export interface RunLock {
  /** The lock file. */
  readonly file: string;
  readonly info: RunLockInfo;
  /** Remove the lock file if it is still this lock's (safe to call more than once). */
  release(): void;
}

export interface AcquireRunLockOptions {
  /** Told when a stale lock is replaced (default: console.warn). */
  log?: (message: string) => void;
}

export class RunLockedError extends Error {
  constructor(
    readonly file: string,
    readonly holder: RunLockInfo,
  ) {
    const where =
      holder.host === os.hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.host}`;
    super(
      `run folder ${path.dirname(file)} is in use by ${where} (since ${holder.started}); ` +
        `two processes must not write one run. Wait for it to end or stop it; if no such process runs, delete ${file}`,
    );
    this.name = 'RunLockedError';
  }
}

function readLock(file: string): RunLockInfo | null | 'absent' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<RunLockInfo>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === 'string' && typeof v.token === 'string') {
      return { pid: v.pid as number, host: v.host, started: String(v.started ?? '?'), token: v.token };
    }
  } catch {
    // not JSON: treated as stale below
  }
  return null;
}

/** Whether the process holding a lock may still run. Another host's process cannot be checked. */
function holderAlive(info: RunLockInfo): boolean {
  if (info.host !== os.hostname()) return true;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(file: string, info: RunLockInfo): boolean {
  const tmp = `${file}.${info.pid}.${info.token}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(info)}\n`);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Move a stale lock out of the way. Another process may replace the same stale lock at the same
 * time: the lock is renamed aside first (only one rename wins), and a live lock moved by mistake
 * is linked back.
 */
function removeStale(file: string, stale: RunLockInfo | null, token: string): void {
  const aside = `${file}.stale.${process.pid}.${token}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  const sameAsSeen =
    stale === null ? moved === null : moved !== null && moved !== 'absent' && moved.token === stale.token;
  if (!sameAsSeen && moved !== null && moved !== 'absent') {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third process holds the name now; it is that process's lock
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * Take the run folder's lock, or throw RunLockedError naming the process that holds it. The folder
 * must exist. Release it with `lock.release()` (or releaseRunLock) when the run ends, also on
 * errors.
 */
export function acquireRunLock(root: string, opts: AcquireRunLockOptions = {}): RunLock {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`run folder ${root} does not exist`);
  const file = path.join(root, RUN_LOCK_NAME);
  const info: RunLockInfo = {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const log = opts.log ?? ((m: string) => console.warn(m));
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, info)) return makeLock(file, info);
    const held = readLock(file);
    if (held === 'absent') continue;
    if (held !== null && holderAlive(held)) throw new RunLockedError(file, held);
    log(
      held === null
        ? `${file}: unreadable lock file replaced`
        : `${file}: replaced a stale lock of process ${held.pid}, which no longer runs (the run it wrote continues from its last checkpoint)`,
    );
    removeStale(file, held, info.token);
  }
  const held = readLock(file);
  if (held !== null && held !== 'absent') throw new RunLockedError(file, held);
  throw new Error(`${file}: could not take the run lock (other processes keep replacing it)`);
}

function makeLock(file: string, info: RunLockInfo): RunLock {
  let released = false;
  return {
    file,
    info,
    release(): void {
      if (released) return;
      released = true;
      const held = readLock(file);
      if (held !== null && held !== 'absent' && held.token === info.token) fs.rmSync(file, { force: true });
    },
  };
}

export function releaseRunLock(lock: RunLock): void {
  lock.release();
}
