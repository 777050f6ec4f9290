/**
 * The AlignSAM ablations from one config, on identical data and seeds:
 *   full       the config as given (its evaluation also gives the reference rows: random cells
 *              with SRM labels = the paper's "w/o RL", centre, oracle, the ceiling, the SRM map)
 *   no-srm     the agent picks the labels too (no SRM; reward configs/rewards/agent-labels.yaml)
 *   T=1,5,10   the horizon (T = 1 is the single-step agent; the full run is the longest T)
 * Each variant and seed is an ordinary run folder `<out>/<variant>-seed<k>`, trained by a child
 * `alignsam train` process (several at once where cores allow). A finished run (eval.json) is
 * kept, a killed one is resumed from its last checkpoint, so re-running the command continues.
 * The summary is `<out>/ablation.json`, `<out>/ablation.png` and a table with mean +- sd.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AlignSamConfig } from '../config/alignsam-config';
import { dumpConfig, loadRewardFile } from '../config/load-config';
import { ProgressLine } from '../utils/progress-line';

export interface AblationVariant {
  name: string;
  description: string;
  /** Changes to the config, as a partial config merged over it. */
  patch: Record<string, Record<string, unknown>>;
}

/** The repository's agent-labels reward, used by the w/o-SRM variant. */
function agentLabelsReward(): AlignSamConfig['reward'] {
  const file = path.join(__dirname, '..', '..', 'configs', 'rewards', 'agent-labels.yaml');
  const r = loadRewardFile(file);
  return { preset: r.preset, terms: r.terms, file: null };
}

export function ablationVariants(config: AlignSamConfig): AblationVariant[] {
  const T = config.env.horizon;
  const out: AblationVariant[] = [{ name: 'full', description: `full: RL + SRM, T = ${T}`, patch: {} }];
  out.push({
    name: 'no-srm',
    description: 'w/o SRM: the agent picks the labels',
    patch: {
      srm: { enabled: false },
      env: {
        label_source: 'agent',
        initial_prompts: config.env.initial_prompts === 'labeler' ? 'none' : config.env.initial_prompts,
      },
      reward: agentLabelsReward() as unknown as Record<string, unknown>,
      eval: { baselines: [] },
    },
  });
  for (const t of [1, 5, 10, 15].filter((t) => t < T)) {
    out.push({
      name: `T${t}`,
      description: t === 1 ? 'single step: T = 1' : `T = ${t}`,
      patch: { env: { horizon: t }, eval: { baselines: [], clicks: config.eval.clicks.filter((k) => k <= t) } },
    });
  }
  return out;
}

export interface AblationOptions {
  config: AlignSamConfig;
  /** The config file (recorded in ablation.json). */
  configFile: string;
  /** Output folder. */
  out: string;
  seeds: number;
  /** Child processes at once; default: the number of cores. */
  jobs?: number;
  /** Scale every variant's train.total_timesteps (e.g. 0.5 for a quick look). */
  stepScale?: number;
  /** Extra `--set` overrides for every run. */
  overrides?: readonly string[];
  /** Train only these variants (names from ablationVariants); default: all of them. */
  variants?: readonly string[];
  log?: (m: string) => void;
  progress?: NodeJS.WritableStream | null;
  /** The command that trains one run (tests replace it); default: this package's CLI. */
  trainCommand?: readonly string[];
}

export interface AblationRun {
  variant: string;
  seed: number;
  dir: string;
  configFile: string;
  totalTimesteps: number;
}

function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = base[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Every run of the ablation, its config written under `<out>/configs/`. */
export function planAblation(opts: AblationOptions): AblationRun[] {
  if (!(Number.isInteger(opts.seeds) && opts.seeds > 0))
    throw new Error(`--seeds must be a positive integer, got ${opts.seeds}`);
  const scale = opts.stepScale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new Error(`step scale must be in (0, 1], got ${scale}`);
  const all = ablationVariants(opts.config);
  const unknown = (opts.variants ?? []).filter((n) => !all.some((v) => v.name === n));
  if (unknown.length > 0)
    throw new Error(
      `--variants: no variant ${unknown.join(', ')} (this config has ${all.map((v) => v.name).join(', ')})`,
    );
  if (opts.variants && opts.variants.length === 0) throw new Error('--variants: name at least one variant');
  const chosen = opts.variants ? all.filter((v) => opts.variants!.includes(v.name)) : all;
  const runs: AblationRun[] = [];
  fs.mkdirSync(path.join(opts.out, 'configs'), { recursive: true });
  for (const v of chosen) {
    for (let seed = 0; seed < opts.seeds; seed++) {
      const name = `${v.name}-seed${seed}`;
      const total = Math.max(1, Math.round(opts.config.train.total_timesteps * scale));
      const cfg = merge(opts.config as unknown as Record<string, unknown>, {
        ...v.patch,
        train: { ...(v.patch.train ?? {}), seed, total_timesteps: total, progress: false },
        run: { name, dir: opts.out },
      }) as unknown as AlignSamConfig;
      const file = path.join(opts.out, 'configs', `${name}.yaml`);
      const text = dumpConfig(cfg, `Ablation run ${name} (${v.description}), from ${opts.configFile}.`);
      if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
      runs.push({ variant: v.name, seed, dir: path.join(opts.out, name), configFile: file, totalTimesteps: total });
    }
  }
  return runs;
}

type RunState = 'done' | 'resume' | 'new';

function stateOf(run: AblationRun): RunState {
  if (fs.existsSync(path.join(run.dir, 'eval.json'))) return 'done';
  const ck = path.join(run.dir, 'checkpoints');
  if (fs.existsSync(ck) && fs.readdirSync(ck).some((d) => /^model_\d+_steps$/.test(d))) return 'resume';
  return 'new';
}

/** The last step a run's metrics.jsonl reached (its progress while a child trains it). */
function stepOf(run: AblationRun): number {
  const f = path.join(run.dir, 'metrics.jsonl');
  if (!fs.existsSync(f)) return 0;
  const lines = fs.readFileSync(f, 'utf8').trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const step = JSON.parse(lines[i]).step;
      if (typeof step === 'number') return step;
    } catch {
      // a line being written
    }
  }
  return 0;
}

function runChild(cmd: readonly string[], args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { stdio: ['ignore', out, out] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      fs.closeSync(out);
      if (code === 0) resolve();
      else reject(new Error(`${args.join(' ')} ended with ${signal ?? `exit code ${code}`}; its log: ${logFile}`));
    });
  });
}

/** Wall-clock seconds per run, summed over the processes that trained it (resumes included). */
function addWallSeconds(out: string, run: string, seconds: number): void {
  const file = path.join(out, 'wall-seconds.json');
  const all: Record<string, number> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  all[run] = (all[run] ?? 0) + seconds;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(all, null, 1)}\n`);
  fs.renameSync(tmp, file);
}

/** Train (or resume, or keep) every run, `jobs` at a time, with a progress line. */
export async function runAblation(opts: AblationOptions): Promise<AblationRun[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const runs = planAblation(opts);
  const jobs = Math.max(1, opts.jobs ?? os.cpus().length);
  const cli = opts.trainCommand ?? [process.execPath, path.join(__dirname, '..', '..', 'bin', 'alignsam.js')];
  const todo = runs.filter((r) => stateOf(r) !== 'done');
  log(
    `ablation: ${runs.length} runs (${runs.length - todo.length} already done), ${Math.min(jobs, todo.length)} at a time, in ${opts.out}`,
  );
  const totalSteps = runs.reduce((a, r) => a + r.totalTimesteps, 0);
  const progress = opts.progress ? new ProgressLine(opts.progress, { intervalMs: 30_000 }) : null;
  const stepsDone = () =>
    runs.reduce((a, r) => a + (stateOf(r) === 'done' ? r.totalTimesteps : Math.min(r.totalTimesteps, stepOf(r))), 0);
  const timer = progress
    ? setInterval(() => progress.update('ablation', stepsDone(), totalSteps, 'steps'), 2000)
    : null;
  let next = 0;
  const failures: Error[] = [];
  const worker = async () => {
    while (next < todo.length && failures.length === 0) {
      const run = todo[next++];
      const state = stateOf(run);
      const args =
        state === 'resume'
          ? ['train', '--resume', run.dir, '--no-progress']
          : ['train', '--config', run.configFile, '--no-progress'];
      if (state === 'new' && fs.existsSync(run.dir)) fs.rmSync(run.dir, { recursive: true, force: true });
      for (const o of opts.overrides ?? []) args.push('--set', o);
      const t0 = Date.now();
      try {
        await runChild(cli, args, path.join(opts.out, `${path.basename(run.dir)}.log`));
        addWallSeconds(opts.out, path.basename(run.dir), (Date.now() - t0) / 1000);
      } catch (err) {
        failures.push(err as Error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  } finally {
    if (timer) clearInterval(timer);
    progress?.update('ablation', stepsDone(), totalSteps, 'steps');
    progress?.end();
  }
  if (failures.length > 0) throw failures[0];
  return runs;
}
