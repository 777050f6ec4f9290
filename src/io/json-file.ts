/**
 * JSON files read with errors that name the file and say whether it could not be read or did not
 * parse, and written pretty-printed with a final newline (inside a folder written atomically, or
 * alone through `writeJsonFileAtomic`).
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from './atomic-file';

function parseJson<T>(file: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
}

function cannotRead(file: string, err: unknown): Error {
  return new Error(`${file}: cannot read (${(err as Error).message})`);
}

export async function readJsonFile<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw cannotRead(file, err);
  }
  return parseJson<T>(file, text);
}

export function readJsonFileSync<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw cannotRead(file, err);
  }
  return parseJson<T>(file, text);
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await fsp.writeFile(file, jsonText(value));
}

/** Replace `file` so that readers see the old JSON or the new, never a part. */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  const text = jsonText(value);
  await writeFileAtomic(file, (handle) => handle.writeFile(text, 'utf8'));
}
