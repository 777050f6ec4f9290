/**
 * Fetches the Universal Sentence Encoder (lite) files into a local folder, for users who have a
 * network: model.json, every weight shard it lists, and vocab.json. Tests never run this.
 *
 *   npm run download:use -- [--dir models/use] [--model-url URL] [--vocab-url URL]
 *
 * Defaults are the locations the `@tensorflow-models/universal-sentence-encoder` package used
 * (Google Cloud Storage); pass --model-url to use a mirror (e.g. the TF Hub / Kaggle tfjs model,
 * whose model.json is served with '?tfjs-format=file').
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { downloadFile } from '../src/io/download';
import { USE_MODEL_FILE, USE_VOCAB_FILE } from '../src/text/use-encoder';
import { arg } from './cli-args';

const BASE = 'https://storage.googleapis.com/tfjs-models/savedmodel/universal_sentence_encoder';

/** The URL of `file` next to `modelUrl`, keeping its query string (TF Hub needs it). */
function sibling(modelUrl: string, file: string): string {
  const u = new URL(modelUrl);
  u.pathname = u.pathname.replace(/[^/]*$/, file);
  return u.href;
}

async function main(): Promise<void> {
  const dir = path.resolve(arg('dir', 'models/use'));
  const modelUrl = arg('model-url', `${BASE}/${USE_MODEL_FILE}`);
  const vocabUrl = arg('vocab-url', `${BASE}/${USE_VOCAB_FILE}`);
  await fsp.mkdir(dir, { recursive: true });
  const progress = (name: string) => (p: { receivedBytes: number; totalBytes: number | null }) => {
    const total = p.totalBytes ? ` / ${(p.totalBytes / 1e6).toFixed(1)} MB` : '';
    process.stdout.write(`\r${name}: ${(p.receivedBytes / 1e6).toFixed(1)} MB${total}   `);
  };
  const modelPath = path.join(dir, USE_MODEL_FILE);
  await downloadFile(modelUrl, modelPath, { onProgress: progress(USE_MODEL_FILE) });
  process.stdout.write('\n');
  const json = JSON.parse(await fsp.readFile(modelPath, 'utf8')) as { weightsManifest?: Array<{ paths: string[] }> };
  const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths);
  for (const shard of shards) {
    if (shard.includes('..') || path.isAbsolute(shard))
      throw new Error(`${modelPath}: unsafe shard path ${JSON.stringify(shard)}`);
    await downloadFile(sibling(modelUrl, shard), path.join(dir, shard), { onProgress: progress(shard) });
    process.stdout.write('\n');
  }
  await downloadFile(vocabUrl, path.join(dir, USE_VOCAB_FILE), { onProgress: progress(USE_VOCAB_FILE) });
  process.stdout.write(`\nUniversal Sentence Encoder files in ${dir} (${shards.length} shards)\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
