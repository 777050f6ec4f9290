/**
 * Folders (checkpoints, exports) written atomically: everything goes into a hidden sibling folder
 * first, which is then renamed into place, so a crash mid-save leaves either the previous folder or
 * the new one, never a mix. When the folder already exists it is moved aside, the new one renamed
 * in, and only then the old one removed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export async function writeFolderAtomic(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(6).toString('hex')}`;
  const tmp = path.join(parent, `.${path.basename(target)}.${tag}.tmp`);
  await fsp.mkdir(tmp);
  try {
    await write(tmp);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | null = null;
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    old = path.join(parent, `.${path.basename(target)}.${tag}.old`);
    await fsp.rename(target, old);
    await fsp.rename(tmp, target);
  }
  if (old) await fsp.rm(old, { recursive: true, force: true });
}
