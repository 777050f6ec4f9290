/**
 * The run folder:
 *   runs/<name>/config.yaml                 the resolved config (defaults filled in)
 *   runs/<name>/metrics.jsonl               scalars, one JSON line per record
 *   runs/<name>/events.out.tfevents.*       the same scalars for TensorBoard (--logdir runs)
 *   runs/<name>/checkpoints/model_<N>_steps agent checkpoints (N = env timesteps)
 *   runs/<name>/checkpoints/best             the best agent by evaluation IoU
 *   runs/<name>/eval.json                   the final evaluation (agent and baselines)
 *   runs/<name>/report/*.png                plots and episode pictures
 *   runs/<name>/run.lock                    held by the process training the run (run-lock.ts)
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AlignSamConfig } from '../config/alignsam-config';
import { dumpConfig, loadConfig } from '../config/load-config';
import { acquireRunLock, RUN_LOCK_NAME, type AcquireRunLockOptions, type RunLock } from './run-lock';

export interface RunPaths {
  root: string;
  config: string;
  metrics: string;
  checkpoints: string;
  best: string;
  evalJson: string;
  report: string;
}

export function runPaths(root: string): RunPaths {
  return {
    root,
    config: path.join(root, 'config.yaml'),
    metrics: path.join(root, 'metrics.jsonl'),
    checkpoints: path.join(root, 'checkpoints'),
    best: path.join(root, 'checkpoints', 'best'),
    evalJson: path.join(root, 'eval.json'),
    report: path.join(root, 'report'),
  };
}

function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The run's name: run.name, else the config file's base name and a timestamp. */
export function runName(config: AlignSamConfig, configFile: string | null, now = new Date()): string {
  if (config.run.name) return config.run.name;
  const base = configFile ? path.basename(configFile).replace(/\.ya?ml$/i, '') : 'run';
  return `${base}-${timestamp(now)}`;
}

function refuseExisting(root: string, ignore: readonly string[] = []): void {
  if (fs.existsSync(root) && fs.readdirSync(root).some((n) => !ignore.includes(n))) {
    throw new Error(
      `run folder ${root} already exists; continue it with --resume ${root}, or set run.name to another name`,
    );
  }
}

function fillRunDir(root: string, config: AlignSamConfig, configFile: string | null): RunPaths {
  const paths = runPaths(root);
  fs.mkdirSync(paths.checkpoints, { recursive: true });
  const resolved = { ...config, run: { ...config.run, name: path.basename(root) } };
  writeRunConfig(
    paths,
    resolved,
    `Resolved config of run ${path.basename(root)}${configFile ? `, from ${configFile}` : ''}.`,
  );
  return paths;
}

/** Create a new run folder and write the resolved config; an existing non-empty folder is an error. */
export function createRunDir(config: AlignSamConfig, configFile: string | null, opts: { now?: Date } = {}): RunPaths {
  const root = path.join(config.run.dir, runName(config, configFile, opts.now));
  refuseExisting(root);
  return fillRunDir(root, config, configFile);
}

/**
 * createRunDir for a process that will write the run: the folder's lock is taken before anything
 * is written, so of two processes creating the same run one gets it and the other is refused.
 * Release the lock when the run ends (`lock.release()`), also on errors.
 */
export function createRunDirLocked(
  config: AlignSamConfig,
  configFile: string | null,
  opts: { now?: Date } & AcquireRunLockOptions = {},
): { paths: RunPaths; lock: RunLock } {
  const root = path.join(config.run.dir, runName(config, configFile, opts.now));
  refuseExisting(root);
  fs.mkdirSync(root, { recursive: true });
  const lock = acquireRunLock(root, opts);
  try {
    // Another process may have created the run between the check above and the lock.
    refuseExisting(root, [RUN_LOCK_NAME]);
    return { paths: fillRunDir(root, config, configFile), lock };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Write the run's resolved config (atomically). */
export function writeRunConfig(paths: RunPaths, config: AlignSamConfig, note: string): void {
  const header = [note, 'Every key is filled in; see configs/README.md.'].join('\n');
  const tmp = `${paths.config}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, dumpConfig(config, header));
  fs.renameSync(tmp, paths.config);
}

export interface CheckpointRef {
  dir: string;
  step: number;
}

const CHECKPOINT_NAME = /^model_(\d+)_steps$/;

/**
 * Complete checkpoints in a checkpoints folder, by step: folders with agent.json (and whatever else
 * `isComplete` asks for, e.g. the SRM), so a save cut short is never picked.
 */
export function listCheckpoints(
  checkpointsDir: string,
  isComplete: (dir: string) => boolean = () => true,
): CheckpointRef[] {
  if (!fs.existsSync(checkpointsDir)) return [];
  const out: CheckpointRef[] = [];
  for (const name of fs.readdirSync(checkpointsDir)) {
    const m = CHECKPOINT_NAME.exec(name);
    const dir = path.join(checkpointsDir, name);
    if (m && fs.existsSync(path.join(dir, 'agent.json')) && isComplete(dir)) out.push({ dir, step: Number(m[1]) });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(checkpointsDir: string, isComplete?: (dir: string) => boolean): CheckpointRef | null {
  const all = listCheckpoints(checkpointsDir, isComplete);
  return all.length > 0 ? all[all.length - 1] : null;
}

export function checkpointDirFor(paths: RunPaths, step: number): string {
  return path.join(paths.checkpoints, `model_${step}_steps`);
}

/** Open an existing run to continue it: its resolved config (plus overrides) and latest checkpoint. */
export function openRunDir(
  root: string,
  overrides: readonly string[] = [],
): { paths: RunPaths; config: AlignSamConfig; checkpoint: CheckpointRef | null } {
  const paths = runPaths(root);
  if (!fs.existsSync(paths.config)) throw new Error(`${root} is not a run folder: ${paths.config} is missing`);
  const config = loadConfig(paths.config, { overrides });
  const withSrm = (dir: string) => !config.srm.enabled || fs.existsSync(path.join(dir, 'srm', 'srm.json'));
  return { paths, config, checkpoint: latestCheckpoint(paths.checkpoints, withSrm) };
}

/**
 * openRunDir for a process that will write the run (--resume): the run's lock is taken before its
 * config and checkpoints are read, and a run another live process writes is refused
 * (RunLockedError). Release the lock when the run ends (`lock.release()`), also on errors.
 */
export function openRunDirLocked(
  root: string,
  overrides: readonly string[] = [],
  opts: AcquireRunLockOptions = {},
): { paths: RunPaths; config: AlignSamConfig; checkpoint: CheckpointRef | null; lock: RunLock } {
  const paths = runPaths(root);
  if (!fs.existsSync(paths.config)) throw new Error(`${root} is not a run folder: ${paths.config} is missing`);
  const lock = acquireRunLock(root, opts);
  try {
    return { ...openRunDir(root, overrides), lock };
  } catch (err) {
    lock.release();
    throw err;
  }
}
