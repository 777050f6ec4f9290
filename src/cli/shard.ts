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
  if (!m) throw new Error(`--shard: expected i/n (e.g. 0/4, with 0 <= i < n) or auto, got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard ${text}: n must be >= 1`);
  if (index >= count)
    throw new Error(
      `--shard ${text}: i must be in [0, ${count}) (shards are numbered from 0, as SLURM_ARRAY_TASK_ID with --array=0-${count - 1} and JOB_COMPLETION_INDEX are)`,
    );
  return { index, count };
}

/** Where a shard's number came from, for the log line. */
export interface ResolvedShard extends Shard {
  source: string;
}

function envInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\s*\d+\s*$/.test(raw))
    throw new Error(`--shard auto: ${name}=${JSON.stringify(raw)} is not a non-negative integer`);
  return Number(raw);
}

/**
 * `--shard i/n` as given, or with `--shard auto` the shard the scheduler assigned to this process:
 * the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm
 * job array), the count from `shards` (`--shards N`) or else SLURM_ARRAY_TASK_COUNT.
 *
 * With `--shards N` a Slurm task id is the shard number itself, so resubmitting some tasks of the
 * array (`sbatch --array=3,7`) redoes exactly those shards; SLURM_ARRAY_TASK_MIN/COUNT then describe
 * the resubmission, not the partition, and are not used. Without it the array is the partition:
 * the index is the task's place in it ((id - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP), so an
 * array numbered from 1 works too, provided it is one evenly spaced range.
 */
export function resolveShard(
  text: string,
  shards: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedShard {
  if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1))
    throw new Error(`--shards must be an integer >= 1, got ${shards}`);
  if (text.trim() !== 'auto') {
    if (shards !== undefined)
      throw new Error(`--shards goes with --shard auto; with --shard ${text} the count is already given`);
    return { ...parseShard(text), source: `--shard ${text.trim()}` };
  }
  const k8s = envInteger(env, 'JOB_COMPLETION_INDEX');
  const slurm = envInteger(env, 'SLURM_ARRAY_TASK_ID');
  if (k8s !== undefined && slurm !== undefined) {
    throw new Error(
      `--shard auto: both JOB_COMPLETION_INDEX (${k8s}) and SLURM_ARRAY_TASK_ID (${slurm}) are set; unset one, or pass --shard i/n`,
    );
  }
  if (k8s !== undefined) {
    if (shards === undefined)
      throw new Error(
        `--shard auto: JOB_COMPLETION_INDEX=${k8s} gives this pod's index but not the number of shards: pass --shards N with N = the Job's completions`,
      );
    if (k8s >= shards)
      throw new Error(
        `--shard auto: JOB_COMPLETION_INDEX=${k8s} is not below --shards ${shards}: the Job's completions must equal --shards`,
      );
    return { index: k8s, count: shards, source: `JOB_COMPLETION_INDEX=${k8s}, --shards ${shards}` };
  }
  if (slurm !== undefined) {
    if (shards !== undefined) {
      if (slurm >= shards)
        throw new Error(
          `--shard auto: SLURM_ARRAY_TASK_ID=${slurm} is not below --shards ${shards}: number the array from 0 (#SBATCH --array=0-${shards - 1})`,
        );
      return { index: slurm, count: shards, source: `SLURM_ARRAY_TASK_ID=${slurm}, --shards ${shards}` };
    }
    const count = envInteger(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined || count < 1)
      throw new Error(
        `--shard auto: SLURM_ARRAY_TASK_ID=${slurm} is set but SLURM_ARRAY_TASK_COUNT is not: pass --shards N with N = the array's size`,
      );
    const min = envInteger(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = envInteger(env, 'SLURM_ARRAY_TASK_MAX');
    const step = envInteger(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const offset = slurm - min;
    // A list such as --array=1,3,7 has no place-in-range numbering; without this check its tasks would silently take the wrong shards.
    const evenRange =
      step >= 1 && offset >= 0 && offset % step === 0 && (max === undefined || (max - min) / step + 1 === count);
    const index = offset / step;
    if (!evenRange || index >= count) {
      throw new Error(
        `--shard auto: SLURM_ARRAY_TASK_ID=${slurm} with SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_MAX=${max ?? 'unset'}, SLURM_ARRAY_TASK_STEP=${step}, SLURM_ARRAY_TASK_COUNT=${count} is not a place in one evenly spaced array: use --array=0-${count - 1} or pass --shards N`,
      );
    }
    return { index, count, source: `SLURM_ARRAY_TASK_ID=${slurm}, SLURM_ARRAY_TASK_COUNT=${count}` };
  }
  throw new Error(
    '--shard auto: neither JOB_COMPLETION_INDEX (set in each pod of a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (set in each task of a Slurm job array) is set; outside a scheduler pass --shard i/n',
  );
}

/** The half-open index range [start, end) of shard i of n over `length` items. */
export function shardRange(length: number, shard: Shard): { start: number; end: number } {
  if (!(Number.isInteger(length) && length >= 0))
    throw new Error(`shardRange: length must be a non-negative integer, got ${length}`);
  const start = Math.floor((shard.index * length) / shard.count);
  const end = Math.floor(((shard.index + 1) * length) / shard.count);
  return { start, end };
}
