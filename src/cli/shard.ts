/**
 * Shards for batch schedulers: `--shard i/n` (0 <= i < n) takes the i-th of n contiguous, nearly
 * equal blocks of a data set's indices, so n jobs (a Slurm array, a Kubernetes indexed Job) cover
 * every index exactly once. Contiguous blocks keep neighbouring samples (often instances of one
 * image) on one machine, so each image is encoded once.
 */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard: expected i/n (e.g. 0/4, with 0 <= i < n), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard ${text}: n must be >= 1`);
  if (index >= count) throw new Error(`--shard ${text}: i must be in [0, ${count}) (shards are numbered from 0, as SLURM_ARRAY_TASK_ID with --array=0-${count - 1} and JOB_COMPLETION_INDEX are)`);
  return { index, count };
}

/** The half-open index range [start, end) of shard i of n over `length` items. */
export function shardRange(length: number, shard: Shard): { start: number; end: number } {
  if (!(Number.isInteger(length) && length >= 0)) throw new Error(`shardRange: length must be a non-negative integer, got ${length}`);
  const start = Math.floor((shard.index * length) / shard.count);
  const end = Math.floor(((shard.index + 1) * length) / shard.count);
  return { start, end };
}
