/**
 * Summarising an ablation: its runs' eval.json files become the rows of the summary (the format
 * is in report/ablation-summary.ts), with where and how it was made (date, commit, machine,
 * backend, wall time).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ABLATION_FORMAT, ABLATION_ROWS, type AblationRow, type AblationSummary } from '../report/ablation-summary';
import type { AblationRun } from './ablation';

const METRICS = ['final_iou', 'label_accuracy', 'p0_positive_in_target', 'return'];

interface EvalJsonPolicy {
  policy: string;
  description?: string;
  mean: Record<string, number>;
  mean_by_target?: Record<string, { episodes: number; mean: Record<string, number> }>;
  mean_iou_curve: number[];
}

function readEval(run: AblationRun): { protocol: string; episodes: number; policies: EvalJsonPolicy[] } {
  const file = path.join(run.dir, 'eval.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(j.policies)) throw new Error(`${file}: no 'policies' array`);
  return { protocol: j.protocol ?? 'unknown', episodes: j.episodes, policies: j.policies };
}

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return [m, sd];
}

export /** Final mIoU per target name over seeds, when every seed's evaluation has the same names. */
function targetRows(ps: readonly EvalJsonPolicy[]): AblationRow['byTarget'] | null {
  const names = Object.keys(ps[0].mean_by_target ?? {});
  if (names.length === 0) return null;
  const out: NonNullable<AblationRow['byTarget']> = {};
  for (const name of names) {
    const per = ps.map((p) => p.mean_by_target?.[name]);
    if (per.some((t) => !t || !Number.isFinite(t.mean.final_iou))) return null;
    const xs = per.map((t) => t!.mean.final_iou);
    const [m, sd] = meanSd(xs);
    out[name] = { episodes: per.map((t) => t!.episodes), perSeed: xs, mean: m, sd };
  }
  return out;
}

export function gitCommit(): string | null {
  try {
    const root = path.join(__dirname, '..', '..');
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    // Only what a run reads counts: code, configs, models, the launcher and the dependencies.
    const what = ['src', 'configs', 'models', 'bin', 'package.json', 'package-lock.json'];
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', ...what], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return null;
  }
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The backend a run used, from the first lines of its log. */
function backendOf(logFile: string): string | null {
  if (!fs.existsSync(logFile)) return null;
  const m = /^backend: (\S+)/m.exec(fs.readFileSync(logFile, 'utf8').slice(0, 4000));
  return m ? m[1] : null;
}

export function summarizeAblation(
  runs: readonly AblationRun[],
  meta: { config: string; out: string; commandWallSeconds: number; jobs: number; wallSeconds: Record<string, number> },
): AblationSummary {
  const seeds = Math.max(...runs.map((r) => r.seed)) + 1;
  const byVariant = new Map<string, AblationRun[]>();
  for (const r of runs) byVariant.set(r.variant, [...(byVariant.get(r.variant) ?? []), r]);
  let protocol = '';
  let episodes = 0;
  const rows: AblationRow[] = [];
  for (const spec of ABLATION_ROWS) {
    const vr = (byVariant.get(spec.variant) ?? []).slice().sort((a, b) => a.seed - b.seed);
    if (vr.length === 0) continue;
    const evals = vr.map(readEval);
    const found = evals.map((e) => e.policies.find((p) => p.policy === spec.policy));
    if (found.some((f) => !f)) continue;
    const ps = found as EvalJsonPolicy[];
    protocol ||= evals[0].protocol;
    episodes ||= evals[0].episodes;
    const keys = Object.keys(ps[0].mean).filter((k) => k.startsWith('iou@') || METRICS.includes(k));
    const perSeed: Record<string, number[]> = {};
    const mean: Record<string, number> = {};
    const sd: Record<string, number> = {};
    for (const k of keys) {
      const xs = ps.map((p) => p.mean[k]).filter((v) => typeof v === 'number' && Number.isFinite(v));
      if (xs.length !== ps.length) continue;
      perSeed[k] = xs;
      [mean[k], sd[k]] = meanSd(xs);
    }
    const len = ps[0].mean_iou_curve.length;
    const curve = Array.from({ length: len }, (_, i) => ps.reduce((a, p) => a + p.mean_iou_curve[i], 0) / ps.length);
    const byTarget = targetRows(ps);
    rows.push({
      name: spec.name,
      description: ps[0].description ?? spec.name,
      variant: spec.variant,
      policy: spec.policy,
      perSeed,
      mean,
      sd,
      curve,
      ...(byTarget ? { byTarget } : {}),
    });
  }
  const wall = runs.map((r) => meta.wallSeconds[path.basename(r.dir)] ?? 0);
  const backends = [
    ...new Set(
      runs
        .map((r) => backendOf(path.join(meta.out, `${path.basename(r.dir)}.log`)))
        .filter((b): b is string => b !== null),
    ),
  ];
  const totalTimesteps: Record<string, number> = {};
  for (const r of runs) totalTimesteps[r.variant] = r.totalTimesteps;
  const first = runs.filter((r) => r.variant === 'full').sort((a, b) => a.seed - b.seed)[0] ?? runs[0];
  return {
    format: ABLATION_FORMAT,
    formatVersion: 1,
    config: meta.config,
    protocol,
    seeds,
    episodes,
    totalTimesteps,
    created: new Date().toISOString(),
    commit: gitCommit(),
    machine: machineDescription(),
    backend: backends.length > 0 ? backends.join(', ') : null,
    runWallSeconds: Math.round(wall.reduce((a, b) => a + b, 0)),
    maxRunWallSeconds: Math.round(Math.max(0, ...wall)),
    commandWallSeconds: Math.round(meta.commandWallSeconds),
    jobs: meta.jobs,
    runConfig: fs.readFileSync(first.configFile, 'utf8'),
    rows,
  };
}
