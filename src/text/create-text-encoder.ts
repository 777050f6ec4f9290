/**
 * Picks a text encoder from a small config: the Universal Sentence Encoder when its folder is
 * present, otherwise (unless told not to) the weaker offline hashed n-gram encoder. A folder that
 * exists but lacks a file is an error, never a silent fallback: that is a broken install.
 */
import { promises as fsp } from 'node:fs';
import { HashedNgramEncoder } from './hashed-ngram-encoder';
import type { TextEncoder } from './text-encoder';
import { UseTextEncoder } from './use-encoder';

export type TextEncoderSpec =
  | {
      type: 'use';
      /** Folder holding model.json, its weight shards and vocab.json. */
      dir: string;
      /** When the folder does not exist: fall back to the hashed encoder (default true) or throw. */
      fallback?: boolean;
      /** Length of the fallback's vectors. Default 512 (USE's). */
      fallbackDim?: number;
      /** Told why the fallback was used (default: console.warn). */
      onFallback?: (message: string) => void;
    }
  | { type: 'hashed'; dim?: number; minN?: number; maxN?: number };

export async function createTextEncoder(spec: TextEncoderSpec): Promise<TextEncoder> {
  if (!spec || typeof spec !== 'object')
    throw new Error(`text encoder spec must be an object, got ${JSON.stringify(spec)}`);
  if (spec.type === 'hashed') return new HashedNgramEncoder({ dim: spec.dim, minN: spec.minN, maxN: spec.maxN });
  if (spec.type === 'use') {
    if (typeof spec.dir !== 'string' || spec.dir.length === 0)
      throw new Error(`text encoder spec: 'dir' must name the Universal Sentence Encoder folder`);
    const exists = await fsp.stat(spec.dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists && spec.fallback !== false) {
      const enc = new HashedNgramEncoder({ dim: spec.fallbackDim ?? 512 });
      (spec.onFallback ?? ((m: string) => console.warn(m)))(
        `Universal Sentence Encoder folder '${spec.dir}' not found: using the offline hashed n-gram text encoder '${enc.id}' (weaker: spelling only, no meaning). ` +
          `Run scripts/download-use.ts to fetch USE.`,
      );
      return enc;
    }
    return UseTextEncoder.load(spec.dir);
  }
  throw new Error(
    `text encoder spec: 'type' must be 'use' or 'hashed', got ${JSON.stringify((spec as { type?: unknown }).type)}`,
  );
}
