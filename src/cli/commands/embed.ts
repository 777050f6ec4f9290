import type { CommandModule } from 'yargs';
import { setList, startBackend, stderrLog, withBackend, withAllowCode, withSet } from '../common';

export interface EmbedArgs {
  config: string;
  set?: string | string[];
  shard: string;
  shards?: number;
  split: 'train' | 'eval' | 'all';
  backend?: string;
  workers?: number;
  progress: boolean;
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  // Large SAMs encode well under one image per second; fixed decimals would print 0.0 there.
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toPrecision(2);
}

export const embedCommand: CommandModule<object, EmbedArgs> = {
  command: 'embed',
  describe: "Precompute SAM image embeddings into the config's embedding cache (env.embedding_cache.dir)",
  builder: (y) =>
    withAllowCode(
      withSet(
        withBackend(
          y
            .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Run config (YAML)' })
            .option('shard', {
              type: 'string',
              default: '0/1',
              describe:
                'Do the i-th of n equal parts of the samples (i/n, 0 <= i < n), or auto: i from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm job array)',
            })
            .option('shards', {
              type: 'number',
              describe:
                "With --shard auto: the number of shards n (the Job's completions; for Slurm, default SLURM_ARRAY_TASK_COUNT)",
            })
            .option('split', {
              choices: ['train', 'eval', 'all'] as const,
              default: 'all' as const,
              describe: 'Which samples: the training split, the evaluation split, or both',
            })
            .option('workers', {
              type: 'number',
              describe:
                "Worker threads encoding images at once, each with its own SAM (default: the config's env.embedding_cache.workers, else one per core as memory allows; 1: this thread)",
            })
            .option('progress', { type: 'boolean', default: true, describe: 'Progress line on stderr' }),
        ),
      ),
    )
      .example('$0 embed --config configs/coco-ppo.yaml', 'encode every training and evaluation image once')
      .example(
        '$0 embed -c configs/coco-ppo.yaml --shard auto --shards 8',
        'one pod of a Kubernetes Indexed Job (completions: 8) or one task of a Slurm array (--array=0-7); see deploy/',
      )
      .example('$0 embed -c configs/coco-ppo.yaml --shard 3/8', 'shard 3 of 8, by hand')
      .example('$0 embed -c configs/coco-ppo.yaml --workers 4', 'four images at a time, on four cores')
      .epilogue(
        'Shards are contiguous blocks of sample indices (train split first, then the evaluation split): n shards cover every sample once. All shards may write to one shared cache folder; files are written atomically, already cached images are skipped (so an interrupted shard resumes where it stopped) and a damaged cache file is recomputed. Progress counts samples (one per target) and images (each encoded once). With the wasm or cpu backend each worker thread encodes its own images, one core each; the embeddings are the same bytes whatever the number of workers.',
      ),
  handler: async (a) => {
    const { loadConfig } = await import('../../config/load-config');
    const { createDatasetForSplit, loadSamFromConfig, createEmbeddingCache } = await import('../../runs/factory');
    const { resolveShard, shardRange } = await import('../shard');
    const { ProgressBarCallback } = await import('../../agent/callbacks');
    // Resolved before any loading so a mis-set scheduler variable fails in a second, not after the model loads.
    const shard = resolveShard(a.shard, a.shards);
    if (a.workers !== undefined && !(Number.isInteger(a.workers) && a.workers >= 1))
      throw new Error(`--workers must be an integer >= 1, got ${a.workers}`);
    const config = loadConfig(a.config, { overrides: setList(a.set) });
    if (config.env.embedding_cache.dir === null)
      throw new Error(`${a.config}: env.embedding_cache.dir is null: there is no disk cache to fill`);
    await startBackend(a.backend, config.sam.backend, stderrLog);
    const sam = await loadSamFromConfig(config);
    const cache = createEmbeddingCache(config, sam, { encoderWorkers: a.workers ?? null });
    try {
      const splits =
        a.split === 'all'
          ? (['train', config.data.eval_split] as const)
          : a.split === 'train'
            ? (['train'] as const)
            : ([config.data.eval_split] as const);
      const datasets: Awaited<ReturnType<typeof createDatasetForSplit>>[] = [];
      for (const s of splits) datasets.push(await createDatasetForSplit(config, s));
      const total = datasets.reduce((n, d) => n + d.length, 0);
      const { start, end } = shardRange(total, shard);
      stderrLog(
        `shard ${shard.index}/${shard.count} (${shard.source}): samples [${start}, ${end}) of ${total} (${datasets.map((d) => `${d.name}: ${d.length}`).join(', ')}) -> ${config.env.embedding_cache.dir}`,
      );
      stderrLog(cache.encoder ? `encoding on ${cache.encoder.size} worker threads` : 'encoding on this thread');
      const bar = new ProgressBarCallback();
      const t0 = Date.now();
      // Several samples can share an image (one per COCO instance): images are counted once, by cache key.
      const seen = new Set<string>();
      let cached = 0;
      let encoded = 0;
      let last = 0;
      // A terminal gets one line redrawn twice a second; a log file (a pod's, a Slurm task's) gets a
      // new line every 30 s, so a shard that runs for hours leaves a readable, small log.
      const tty = process.stderr.isTTY === true;
      const every = tty ? 500 : 30_000;
      let samples = 0;
      const progress = (final: boolean) => {
        const now = Date.now();
        if (!a.progress || !(final || now - last > every)) return;
        last = now;
        const s = (now - t0) / 1000;
        // Images in flight are neither: the counts and the rate are of finished images.
        process.stderr.write(
          `${tty ? '\r' : ''}${bar.render(samples, end - start, s).replace(/steps\/s/g, 'samples/s')} | ${seen.size} images (${encoded} encoded, ${cached} cached) ${formatRate((encoded + cached) / s)} images/s${tty ? '' : '\n'}`,
        );
      };
      // Samples are read here while the workers encode the images before them.
      async function* toEncode() {
        for (let g = start; g < end; g++) {
          let i = g;
          let d = 0;
          while (i >= datasets[d].length) i -= datasets[d++].length;
          const sample = await datasets[d].get(i);
          samples++;
          const key = cache.keyOf(sample.image);
          if (!seen.has(key)) {
            seen.add(key);
            if (cache.hasOnDisk(sample.image)) cached++;
            else
              yield {
                image: sample.image,
                name: `${datasets[d].name} sample ${i} (${sample.meta?.imagePath ?? sample.id})`,
              };
          }
          progress(false);
        }
      }
      await cache.warmMany(toEncode(), () => {
        encoded++;
        cache.clear();
        progress(false);
      });
      if (end > start) progress(true);
      if (a.progress && tty && end > start) process.stderr.write('\n');
      const s = (Date.now() - t0) / 1000;
      process.stdout.write(
        `shard ${shard.index}/${shard.count}: ${end - start} samples, ${seen.size} images: ${encoded} encoded, ${cached} already cached, in ${s.toFixed(1)} s (${formatRate(seen.size / s)} images/s)\n`,
      );
    } finally {
      cache.clear();
      await cache.encoder?.close();
      sam.dispose();
    }
  },
};
