/**
 * `alignsam embed --shard auto` as the scheduler manifests in deploy/ run it: the command line is
 * taken from deploy/kubernetes/embed-job.yaml and deploy/slurm/embed-array.sbatch, two shards run
 * in parallel as child processes (one indexed like a Kubernetes pod, one like a Slurm task), and
 * their caches together are one unsharded run's cache, byte for byte.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as os from 'os';
import * as path from 'path';
import { resolveShard } from '../../src/cli/shard';

const ROOT = path.resolve(__dirname, '../..');
const JOB = path.join(ROOT, 'deploy', 'kubernetes', 'embed-job.yaml');
const SBATCH = path.join(ROOT, 'deploy', 'slurm', 'embed-array.sbatch');

interface JobManifest {
  kind: string;
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    template: { spec: { containers: Array<{ command: string[]; args?: string[] }> } };
  };
}

function kubernetesCommand(): { argv: string[]; completions: number; parallelism: number } {
  const docs = yaml.loadAll(fs.readFileSync(JOB, 'utf8')) as JobManifest[];
  const job = docs.find((d) => d && d.kind === 'Job')!;
  expect(job.spec.completionMode).toBe('Indexed');
  const [container] = job.spec.template.spec.containers;
  return {
    argv: [...container.command, ...(container.args ?? [])],
    completions: job.spec.completions,
    parallelism: job.spec.parallelism,
  };
}

function slurmCommand(): { argv: string[]; array: string } {
  const lines = fs.readFileSync(SBATCH, 'utf8').split('\n');
  const array = lines.map((l) => /^#SBATCH\s+--array=(\S+)/.exec(l)).find(Boolean)![1];
  const command = lines.filter((l) => /^npx alignsam /.test(l));
  expect(command).toHaveLength(1);
  // The script's command has no quoting or variables, so splitting on blanks is how bash reads it.
  return { argv: command[0].trim().split(/\s+/), array };
}

/** The value after `flag` in argv, replaced. */
function withValue(argv: string[], flag: string, value: string): string[] {
  const i = argv.indexOf(flag);
  expect(i).toBeGreaterThan(0);
  return [...argv.slice(0, i + 1), value, ...argv.slice(i + 2)];
}

/** The environment a pod or array task would see: this one's, less any scheduler variables. */
function schedulerEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false' };
  for (const k of Object.keys(env)) if (k === 'JOB_COMPLETION_INDEX' || k.startsWith('SLURM_')) delete env[k];
  return { ...env, ...vars };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += String(b)));
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOk(r: Run): void {
  if (r.code !== 0) throw new Error(`exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

/** Every file of a cache folder, by name. */
function files(dir: string): Map<string, Buffer> {
  return new Map(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
  );
}

let tmp: string;
let config: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-embed-shards-'));
  config = path.join(tmp, 'config.yaml');
  // The micro-SAM on six 128-px synthetic scenes (four training, two evaluation).
  fs.writeFileSync(
    config,
    [
      'sam:',
      '  checkpoint: micro',
      '  backend: wasm',
      'data:',
      '  type: synthetic',
      '  synthetic:',
      '    length: 4',
      '    eval_length: 2',
      '    image_size: 128',
      'env:',
      '  embedding_cache:',
      `    dir: ${JSON.stringify(path.join(tmp, 'unused'))}`,
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the manifests in deploy/', () => {
  it('run one command line, npx alignsam embed --shard auto --shards N, with N pods or array tasks', () => {
    const k8s = kubernetesCommand();
    const slurm = slurmCommand();
    expect(k8s.argv).toEqual(slurm.argv);
    expect(k8s.argv.slice(0, 3)).toEqual(['npx', 'alignsam', 'embed']);
    expect(withValue(k8s.argv, '--shard', 'auto')).toEqual(k8s.argv);
    const n = Number(k8s.argv[k8s.argv.indexOf('--shards') + 1]);
    expect(Number.isInteger(n) && n > 1).toBe(true);
    expect([k8s.completions, k8s.parallelism]).toEqual([n, n]);
    expect(slurm.array).toBe(`0-${n - 1}`);
    expect(fs.existsSync(path.join(ROOT, k8s.argv[k8s.argv.indexOf('--config') + 1]))).toBe(true);
  });
});

describe('two shards run as the manifests run them', () => {
  const cacheOf = (name: string) => path.join(tmp, name);
  /** The manifests' command on the small config, 2 shards, writing to `cache` (the manifests share one cache; separate ones show which shard wrote what). */
  const shardArgv = (cache: string) => [
    ...withValue(withValue(kubernetesCommand().argv, '--config', config), '--shards', '2'),
    '--set',
    `env.embedding_cache.dir=${cache}`,
  ];
  const k8sEnv = schedulerEnv({ JOB_COMPLETION_INDEX: '0' });
  const slurmEnv = schedulerEnv({
    SLURM_ARRAY_JOB_ID: '42',
    SLURM_ARRAY_TASK_ID: '1',
    SLURM_ARRAY_TASK_MIN: '0',
    SLURM_ARRAY_TASK_MAX: '1',
    SLURM_ARRAY_TASK_COUNT: '2',
    SLURM_ARRAY_TASK_STEP: '1',
  });

  it('in parallel, write disjoint caches that together are one unsharded run, byte for byte, reporting images/s', async () => {
    const [pod, task] = await Promise.all([
      run(shardArgv(cacheOf('pod-0')), k8sEnv),
      run(shardArgv(cacheOf('task-1')), slurmEnv),
    ]);
    expectOk(pod);
    expectOk(task);
    expect(pod.stderr).toContain('shard 0/2 (JOB_COMPLETION_INDEX=0, --shards 2): samples [0, 3) of 6');
    expect(task.stderr).toContain('shard 1/2 (SLURM_ARRAY_TASK_ID=1, --shards 2): samples [3, 6) of 6');
    for (const r of [pod, task]) {
      // Synthetic scenes have one target each: 3 samples are 3 images, and the rate counts images.
      expect(r.stderr).toMatch(/ 3\/3 [0-9.]+ samples\/s .*\| 3 images \(3 encoded, 0 cached\) [0-9.]+ images\/s\n/);
      expect(r.stdout).toMatch(
        /: 3 samples, 3 images: 3 encoded, 0 already cached, in [0-9.]+ s \([0-9.]+ images\/s\)\n$/,
      );
    }

    // The unsharded run: the same command without --shard auto --shards N.
    const noShard = shardArgv(cacheOf('unsharded')).filter(
      (a, i, all) => !['--shard', '--shards'].includes(a) && !['--shard', '--shards'].includes(all[i - 1]),
    );
    const one = await run(noShard, schedulerEnv({}));
    expectOk(one);
    expect(one.stdout).toMatch(/shard 0\/1: 6 samples, 6 images: 6 encoded/);

    const a = files(cacheOf('pod-0'));
    const b = files(cacheOf('task-1'));
    const all = files(cacheOf('unsharded'));
    expect([a.size, b.size, all.size]).toEqual([3, 3, 6]);
    expect([...a.keys()].filter((k) => b.has(k))).toEqual([]);
    const union = new Map([...a, ...b]);
    expect([...union.keys()].sort()).toEqual([...all.keys()]);
    for (const [name, bytes] of all) expect(union.get(name)!.equals(bytes)).toBe(true);
  }, 120_000);

  it('run again, skip what is cached and recompute a damaged file', async () => {
    const dir = cacheOf('pod-0');
    const before = files(dir);
    const [damaged, removed] = [...before.keys()];
    fs.writeFileSync(path.join(dir, damaged), before.get(damaged)!.subarray(0, 100));
    fs.rmSync(path.join(dir, removed));
    const again = await run(shardArgv(dir), schedulerEnv({ JOB_COMPLETION_INDEX: '0' }));
    expectOk(again);
    expect(again.stdout).toMatch(/shard 0\/2: 3 samples, 3 images: 2 encoded, 1 already cached/);
    expect(again.stderr).toContain(path.join(dir, damaged));
    expect(again.stderr).toMatch(/recomput/);
    const after = files(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, bytes] of before) expect(after.get(name)!.equals(bytes)).toBe(true);
  }, 60_000);
});

describe('--shard auto', () => {
  it('takes the index from JOB_COMPLETION_INDEX and the count from --shards', () => {
    expect(resolveShard('auto', 4, { JOB_COMPLETION_INDEX: '3' })).toMatchObject({ index: 3, count: 4 });
    expect(() => resolveShard('auto', undefined, { JOB_COMPLETION_INDEX: '3' })).toThrow(
      /--shards N with N = the Job's completions/,
    );
    expect(() => resolveShard('auto', 3, { JOB_COMPLETION_INDEX: '3' })).toThrow(
      /JOB_COMPLETION_INDEX=3 is not below --shards 3/,
    );
    expect(() => resolveShard('auto', 3, { JOB_COMPLETION_INDEX: 'one' })).toThrow(
      /JOB_COMPLETION_INDEX="one" is not a non-negative integer/,
    );
  });

  it('takes a Slurm task id as the shard number with --shards, so resubmitted tasks redo their own shards', () => {
    const resubmitted = {
      SLURM_ARRAY_TASK_ID: '7',
      SLURM_ARRAY_TASK_MIN: '3',
      SLURM_ARRAY_TASK_MAX: '7',
      SLURM_ARRAY_TASK_COUNT: '2',
    };
    expect(resolveShard('auto', 8, resubmitted)).toMatchObject({ index: 7, count: 8 });
    expect(() => resolveShard('auto', 8, { SLURM_ARRAY_TASK_ID: '8' })).toThrow(
      /not below --shards 8: number the array from 0 \(#SBATCH --array=0-7\)/,
    );
  });

  it("without --shards, takes the task's place in the array and the array's size", () => {
    const task = (id: number, min: number, max: number, step = 1) => ({
      SLURM_ARRAY_TASK_ID: `${id}`,
      SLURM_ARRAY_TASK_MIN: `${min}`,
      SLURM_ARRAY_TASK_MAX: `${max}`,
      SLURM_ARRAY_TASK_STEP: `${step}`,
      SLURM_ARRAY_TASK_COUNT: `${(max - min) / step + 1}`,
    });
    expect(resolveShard('auto', undefined, task(0, 0, 3))).toMatchObject({ index: 0, count: 4 });
    expect(resolveShard('auto', undefined, task(4, 1, 4))).toMatchObject({ index: 3, count: 4 });
    expect(resolveShard('auto', undefined, task(6, 0, 6, 2))).toMatchObject({ index: 3, count: 4 });
    // --array=1,3,7: three tasks, not one evenly spaced range.
    expect(() =>
      resolveShard('auto', undefined, {
        SLURM_ARRAY_TASK_ID: '3',
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_MAX: '7',
        SLURM_ARRAY_TASK_COUNT: '3',
      }),
    ).toThrow(/not a place in one evenly spaced array/);
    expect(() => resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '3' })).toThrow(
      /SLURM_ARRAY_TASK_COUNT is not/,
    );
  });

  it('says what to do when no scheduler variable is set, or both are', () => {
    expect(() => resolveShard('auto', 2, {})).toThrow(
      /neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID .*pass --shard i\/n/,
    );
    expect(() => resolveShard('auto', 2, { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '1' })).toThrow(
      /both JOB_COMPLETION_INDEX \(0\) and SLURM_ARRAY_TASK_ID \(1\) are set/,
    );
  });

  it('keeps --shard i/n, which takes no --shards', () => {
    expect(resolveShard('1/3', undefined, { JOB_COMPLETION_INDEX: '0' })).toMatchObject({ index: 1, count: 3 });
    expect(() => resolveShard('1/3', 3, {})).toThrow(/--shards goes with --shard auto/);
    expect(() => resolveShard('auto', 0, { JOB_COMPLETION_INDEX: '0' })).toThrow(/--shards must be an integer >= 1/);
  });
});
