import type { CommandModule } from 'yargs';
import { setList, startBackend, stderrLog, withBackend, withAllowCode, withSet } from '../common';

export interface EmbedArgs {
  config: string;
  set?: string | string[];
  shard: string;
  split: 'train' | 'eval' | 'all';
  backend?: string;
  progress: boolean;
}

export const embedCommand: CommandModule<object, EmbedArgs> = {
  command: 'embed',
  describe: "Precompute SAM image embeddings into the config's embedding cache (env.embedding_cache.dir)",
  builder: (y) =>
    withAllowCode(withSet(
      withBackend(
        y
          .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Run config (YAML)' })
          .option('shard', { type: 'string', default: '0/1', describe: 'Do the i-th of n equal parts of the samples (0 <= i < n), for batch schedulers' })
          .option('split', { choices: ['train', 'eval', 'all'] as const, default: 'all' as const, describe: 'Which samples: the training split, the evaluation split, or both' })
          .option('progress', { type: 'boolean', default: true, describe: 'Progress line on stderr' }),
      ),
    ))
      .example('$0 embed --config configs/coco-ppo.yaml', 'encode every training and evaluation image once')
      .example('$0 embed -c configs/coco-ppo.yaml --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT', 'one task of a Slurm array (sbatch --array=0-15)')
      .example('$0 embed -c configs/coco-ppo.yaml --shard $JOB_COMPLETION_INDEX/16', 'one pod of a Kubernetes indexed Job (completions: 16)')
      .epilogue('Shards are contiguous blocks of sample indices (train split first, then the evaluation split): n shards cover every sample once. All shards may write to one shared cache folder; files are written atomically and already cached images are skipped.'),
  handler: async (a) => {
    const { loadConfig } = await import('../../config/load-config');
    const { createDatasetForSplit, loadSamFromConfig, createEmbeddingCache } = await import('../../runs/factory');
    const { parseShard, shardRange } = await import('../shard');
    const { ProgressBarCallback } = await import('../../agent/callbacks');
    const shard = parseShard(a.shard);
    const config = loadConfig(a.config, { overrides: setList(a.set) });
    if (config.env.embedding_cache.dir === null) throw new Error(`${a.config}: env.embedding_cache.dir is null: there is no disk cache to fill`);
    await startBackend(a.backend, config.sam.backend, stderrLog);
    const sam = await loadSamFromConfig(config);
    const cache = createEmbeddingCache(config, sam);
    try {
      const splits = a.split === 'all' ? (['train', config.data.eval_split] as const) : a.split === 'train' ? (['train'] as const) : ([config.data.eval_split] as const);
      const datasets = [];
      for (const s of splits) datasets.push(await createDatasetForSplit(config, s));
      const total = datasets.reduce((n, d) => n + d.length, 0);
      const { start, end } = shardRange(total, shard);
      stderrLog(`shard ${shard.index}/${shard.count}: samples [${start}, ${end}) of ${total} (${datasets.map((d) => `${d.name}: ${d.length}`).join(', ')}) -> ${config.env.embedding_cache.dir}`);
      const bar = new ProgressBarCallback();
      const t0 = Date.now();
      let cached = 0;
      let computed = 0;
      let last = 0;
      for (let g = start; g < end; g++) {
        let i = g;
        let d = 0;
        while (i >= datasets[d].length) i -= datasets[d++].length;
        const sample = await datasets[d].get(i);
        if (cache.hasOnDisk(sample.image)) cached++;
        else {
          await cache.warm(sample.image);
          computed++;
        }
        cache.clear();
        const now = Date.now();
        if (a.progress && (now - last > 500 || g === end - 1)) {
          last = now;
          // The bar counts samples: an image with several targets (COCO) is several samples, encoded once.
          process.stderr.write(`\r${bar.render(g - start + 1, end - start, (now - t0) / 1000).replace(/steps\/s/g, 'samples/s')} | encoded ${computed}, cached ${cached}`);
        }
      }
      if (a.progress && end > start) process.stderr.write('\n');
      process.stdout.write(`shard ${shard.index}/${shard.count}: ${end - start} samples, ${computed} encoded, ${cached} already cached, in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } finally {
      cache.clear();
      sam.dispose();
    }
  },
};
