/**
 * Where the read-only fixtures and data live: `ALIGNSAM_SHARED` when set, else the `shared/` folder
 * beside the clone (the layout the README documents).
 */
import * as path from 'path';

export const SHARED_DIR = process.env.ALIGNSAM_SHARED
  ? path.resolve(process.env.ALIGNSAM_SHARED)
  : path.resolve(__dirname, '../../shared');

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}
