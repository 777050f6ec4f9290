/**
 * Writing files so that readers only ever see the old file or the complete new one: data goes to a
 * temporary file in the destination's folder (same filesystem, so rename is atomic) and is renamed
 * over the destination only after everything was written and flushed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** A unique temporary path next to `destPath` (hidden, with the destination's name in it). */
export function tempPathFor(destPath: string): string {
  const dir = path.dirname(destPath);
  const base = path.basename(destPath);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Create `destPath` atomically: `write` receives an open handle on a temporary file; when it resolves,
 * the file is flushed and renamed into place. When it throws, the temporary file is removed and
 * `destPath` is left as it was.
 */
export async function writeFileAtomic(
  destPath: string,
  write: (handle: fsp.FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = tempPathFor(destPath);
  const handle = await fsp.open(tmp, 'wx');
  let closed = false;
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    closed = true;
    await fsp.rename(tmp, destPath);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Write all of `bytes` at the handle's current position (loops over partial writes). */
export async function writeAll(handle: fsp.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}

/** Read exactly `length` bytes at `position` into a fresh buffer; a short file is an error. */
export async function readExactly(
  handle: fsp.FileHandle,
  position: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new Error(`${what}: unexpected end of file (wanted ${length} bytes at offset ${position}, got ${done})`);
    }
    done += bytesRead;
  }
  return out;
}
