import type { Argv, CommandModule } from 'yargs';

export interface DownloadArgs {
  what: 'sam' | 'use';
  model: string;
  out?: string;
  sha256?: string;
  'model-url'?: string;
  'vocab-url'?: string;
}

const SAM_MODELS = ['vit_b', 'vit_l', 'vit_h', 'all'] as const;
const USE_BASE = 'https://storage.googleapis.com/tfjs-models/savedmodel/universal_sentence_encoder';

function progressPrinter(name: string) {
  let last = 0;
  return (p: { receivedBytes: number; totalBytes: number | null }) => {
    const now = Date.now();
    if (now - last < 250 && p.receivedBytes !== p.totalBytes) return;
    last = now;
    const total = p.totalBytes ? ` / ${(p.totalBytes / 1e6).toFixed(1)} MB` : '';
    const pct = p.totalBytes ? ` (${((100 * p.receivedBytes) / p.totalBytes).toFixed(0)}%)` : '';
    process.stderr.write(`\r${name}: ${(p.receivedBytes / 1e6).toFixed(1)} MB${total}${pct}   `);
  };
}

export const downloadCommand: CommandModule<object, DownloadArgs> = {
  command: 'download <what>',
  describe: 'Fetch official SAM checkpoints or the Universal Sentence Encoder files (needs a network)',
  builder: (y) =>
    y
      .positional('what', {
        choices: ['sam', 'use'] as const,
        describe:
          "'sam': an official SAM checkpoint; 'use': the Universal Sentence Encoder (lite) for text.encoder: use",
      })
      .option('model', { choices: SAM_MODELS, default: 'vit_b', describe: 'Which SAM checkpoint' })
      .option('out', { type: 'string', describe: 'Folder to write (default: models/ for sam, models/use for use)' })
      .option('sha256', { type: 'string', describe: 'Expected SHA-256 of the file (sam, one model)' })
      .option('model-url', {
        type: 'string',
        describe: 'USE model.json URL (a mirror; TF Hub needs ?tfjs-format=file)',
      })
      .option('vocab-url', { type: 'string', describe: 'USE vocab.json URL' })
      .example('$0 download sam --model vit_b', 'models/sam_vit_b_01ec64.pth (375 MB), then set sam.checkpoint to it')
      .example('$0 download sam --model all --out /data/sam', 'ViT-B, ViT-L and ViT-H')
      .example('$0 download use', 'models/use/ (model.json, weight shards, vocab.json), for text.encoder: use')
      .epilogue('Files are written to a temporary name and renamed when complete.') as unknown as Argv<DownloadArgs>,
  handler: async (a) => {
    const path = await import('path');
    const fs = await import('fs');
    const { downloadFile, SAM_CHECKPOINTS } = await import('../../io/download');
    if (a.what === 'sam') {
      const out = a.out ?? 'models';
      const models =
        a.model === 'all' ? (['vit_b', 'vit_l', 'vit_h'] as const) : [a.model as 'vit_b' | 'vit_l' | 'vit_h'];
      if (a.sha256 && models.length > 1) throw new Error('--sha256 checks one file; name one --model');
      for (const m of models) {
        const { fileName, url } = SAM_CHECKPOINTS[m];
        const dest = path.join(out, fileName);
        const r = await downloadFile(url, dest, { onProgress: progressPrinter(fileName), expectedSha256: a.sha256 });
        process.stderr.write('\n');
        process.stdout.write(`${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 ${r.sha256})\n`);
      }
      return;
    }
    const { USE_MODEL_FILE, USE_VOCAB_FILE } = await import('../../text/use-encoder');
    const out = path.resolve(a.out ?? path.join('models', 'use'));
    const modelUrl = a['model-url'] ?? `${USE_BASE}/${USE_MODEL_FILE}`;
    const vocabUrl = a['vocab-url'] ?? `${USE_BASE}/${USE_VOCAB_FILE}`;
    const modelPath = path.join(out, USE_MODEL_FILE);
    await downloadFile(modelUrl, modelPath, { onProgress: progressPrinter(USE_MODEL_FILE) });
    process.stderr.write('\n');
    const json = JSON.parse(fs.readFileSync(modelPath, 'utf8')) as { weightsManifest?: Array<{ paths: string[] }> };
    const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths);
    for (const shard of shards) {
      if (shard.includes('..') || path.isAbsolute(shard))
        throw new Error(`${modelPath}: unsafe shard path ${JSON.stringify(shard)}`);
      const u = new URL(modelUrl);
      u.pathname = u.pathname.replace(/[^/]*$/, shard);
      await downloadFile(u.href, path.join(out, shard), { onProgress: progressPrinter(shard) });
      process.stderr.write('\n');
    }
    await downloadFile(vocabUrl, path.join(out, USE_VOCAB_FILE), { onProgress: progressPrinter(USE_VOCAB_FILE) });
    process.stderr.write('\n');
    process.stdout.write(
      `Universal Sentence Encoder in ${out} (${shards.length} weight shards); set text.encoder: use and text.use_dir: ${path.relative(process.cwd(), out) || '.'}\n`,
    );
  },
};
