/**
 * A training run from a resolved config: build SAM, data, envs and the agent; learn with
 * checkpoints, metrics (metrics.jsonl + TensorBoard), a progress line and periodic evaluation;
 * then evaluate the agent against the baseline clickers on the same episodes and write the report.
 * `resume` continues a run folder from its latest checkpoint.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { CheckpointCallback, type Callback } from '../agent/callbacks';
import type { AlignSamConfig } from '../config/alignsam-config';
import { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { pretrainSrm } from '../recalibration/srm-training';
import type { SamModel } from '../sam/sam-model';
import { agentPolicy, createBaseline, type ClickPolicy } from '../eval/clickers';
import { episodeSpecs, evaluate, reportToJson, type EvaluationReport } from '../eval/evaluate';
import { writeRunReport, type ReportFiles } from '../report/run-report';
import { Agent, createAgent, createEvalEnv, createRunParts, createTrainEnv, envOptions, loadAgent, type RunParts } from './factory';
import { EveryNSteps, TrainingMonitor } from './monitor';
import { checkpointDirFor, createRunDir, openRunDir, writeRunConfig, type RunPaths } from './run-dir';
import { RunLogger } from './run-logger';

export interface TrainRunOptions {
  config: AlignSamConfig;
  /** The config file (names the run); null for a config built in code. */
  configFile?: string | null;
  /** Continue this run folder from its latest checkpoint (its config.yaml is used; `config` is ignored). */
  resumeDir?: string;
  /** Overrides applied to a resumed run's config. */
  resumeOverrides?: readonly string[];
  /** Progress line stream (null: none). Default: stderr when train.progress. */
  progress?: NodeJS.WritableStream | null;
  /** Status messages. Default: stderr. */
  log?: (message: string) => void;
  /** Skip the final evaluation and report (tests). */
  skipFinalEval?: boolean;
  /** Reuse a loaded SAM (tests); it is not disposed. */
  sam?: SamModel;
}

export interface TrainRunResult {
  paths: RunPaths;
  numTimesteps: number;
  resumedFrom: number | null;
  evaluation: EvaluationReport[];
  report: ReportFiles | null;
  stopped: string | null;
}

/** Evaluate the agent and the configured baselines on one list of episodes. */
export async function evaluateWithBaselines(
  config: AlignSamConfig,
  env: SamPromptEnv,
  agent: ClickPolicy | null,
  episodes: number,
  opts: { datasetLength: number; pictures?: number; onEpisode?: (policy: string, done: number, total: number) => void },
): Promise<EvaluationReport[]> {
  const datasetLength = opts.datasetLength;
  const specs = episodeSpecs(datasetLength, episodes, 1_000_003 + config.train.seed);
  const policies: ClickPolicy[] = [...(agent ? [agent] : []), ...config.eval.baselines.map((b) => createBaseline(b, config.train.seed))];
  const out: EvaluationReport[] = [];
  for (const p of policies) {
    const r = await evaluate(p, env, specs, {
      ks: config.eval.clicks,
      thresholds: config.eval.thresholds,
      pictures: opts.pictures ?? 0,
      onEpisode: (done, total) => opts.onEpisode?.(p.name, done, total),
    });
    out.push(r);
  }
  return out;
}

/** The evaluation table as text: one row per policy. */
export function formatEvaluationTable(reports: readonly EvaluationReport[]): string {
  if (reports.length === 0) return '(no evaluation)';
  const keys = Object.keys(reports[0].mean).filter((k) => k.startsWith('iou@') || k.startsWith('noc@') || k.startsWith('nof@'));
  const cols = ['policy', ...keys.map((k) => (k.startsWith('iou@') ? `mIoU@${k.slice(4)}` : k.startsWith('noc@') ? `NoC@${k.slice(4)}` : `NoF@${k.slice(4)}`)), 'final IoU', 'label acc', 'return'];
  const rows = reports.map((r) => [
    r.policy,
    ...keys.map((k) => (k.startsWith('iou@') ? r.mean[k].toFixed(3) : k.startsWith('nof@') ? `${(100 * r.mean[k]).toFixed(0)}%` : r.mean[k].toFixed(2))),
    r.mean.final_iou.toFixed(3),
    r.mean.label_accuracy.toFixed(3),
    r.mean.return.toFixed(2),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), `(${reports[0].episodes.length} episodes each, the same for every policy)`].join('\n');
}

function evalScalars(r: EvaluationReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.mean)) out[`eval/${k === 'return' ? 'mean_return' : k}`] = v;
  return out;
}

/** Pre-train the SRM on states of random clicks in an env labelled by the ground truth. */
async function pretrainSrmFromConfig(config: AlignSamConfig, parts: RunParts): Promise<{ updates: number; finalLoss: number }> {
  const env = new SamPromptEnv({
    ...envOptions(config, parts, 'train'),
    labelSource: 'oracle',
    labeler: undefined,
    initialPrompts: config.env.initial_prompts === 'labeler' ? 'ground-truth' : config.env.initial_prompts,
  });
  try {
    return await pretrainSrm(parts.labeler!.srm, env, { episodes: config.srm.pretrain_episodes, seed: config.train.seed + 7919 });
  } finally {
    await env.close();
  }
}

export async function trainRun(opts: TrainRunOptions): Promise<TrainRunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  let config = opts.config;
  let paths: RunPaths;
  let checkpoint: { dir: string; step: number } | null = null;
  if (opts.resumeDir) {
    const opened = openRunDir(opts.resumeDir, opts.resumeOverrides ?? []);
    ({ paths, config, checkpoint } = opened);
    if ((opts.resumeOverrides ?? []).length > 0) {
      // The run's config.yaml stays the truth for the next resume.
      writeRunConfig(paths, config, `Resolved config of run ${path.basename(paths.root)}, resumed with --set ${opts.resumeOverrides!.join(' --set ')}.`);
    }
    log(checkpoint ? `resuming ${paths.root} from ${checkpoint.dir} (${checkpoint.step} steps)` : `resuming ${paths.root}: no checkpoint yet, starting over`);
  } else {
    paths = createRunDir(config, opts.configFile ?? null);
    log(`run folder: ${paths.root}`);
  }
  const parts = await createRunParts(config, { sam: opts.sam, srmCheckpointDir: checkpoint?.dir });
  let env: Awaited<ReturnType<typeof createTrainEnv>>;
  try {
    env = await createTrainEnv(config, parts, { backend: tf.getBackend() });
  } catch (err) {
    parts.dispose();
    throw err;
  }
  // With the SRM, the agent trains on a wrapper that feeds the SRM every step's states (q updates).
  const trainEnv = parts.labeler ? parts.labeler.wrapTrainingEnv(env) : env;
  const evalEnv = createEvalEnv(config, parts);
  let agent: Agent | null = null;
  let logger: RunLogger | null = null;
  const onSignal = () => monitor?.requestStop('interrupted (SIGINT)');
  let monitor: TrainingMonitor | null = null;
  try {
    agent = checkpoint ? await loadAgent(checkpoint.dir, trainEnv) : createAgent(config, trainEnv);
    if (!checkpoint && parts.labeler && config.srm.pretrain_episodes > 0) {
      log(`pre-training the SRM on ${config.srm.pretrain_episodes} random-click episodes ...`);
      const r = await pretrainSrmFromConfig(config, parts);
      log(`SRM pre-training: ${r.updates} updates, final loss ${r.finalLoss.toFixed(4)}`);
    }
    logger = new RunLogger(paths.root, { resumeFromStep: checkpoint ? checkpoint.step : opts.resumeDir ? 0 : undefined });
    const algo = config.agent.algo;
    const progress = opts.progress === undefined ? (config.train.progress ? process.stderr : null) : opts.progress;
    monitor = new TrainingMonitor({ agent, algo, logger, progress, extraMetrics: parts.labeler?.metrics });
    const callbacks: Callback[] = [monitor];
    const saveCheckpoint = async (dir: string) => {
      await agent!.save(dir);
      if (parts.labeler?.save) await parts.labeler.save(dir);
    };
    if (config.train.checkpoint_every > 0) {
      if (parts.labeler?.save) {
        callbacks.push(new EveryNSteps(config.train.checkpoint_every, (ctx) => saveCheckpoint(checkpointDirFor(paths, ctx.numTimesteps))));
      } else {
        callbacks.push(new CheckpointCallback({ everySteps: config.train.checkpoint_every, dir: paths.checkpoints }));
      }
    }
    let bestIou = -Infinity;
    if (config.train.eval_every > 0) {
      callbacks.push(
        new EveryNSteps(config.train.eval_every, async (ctx) => {
          // At the end, the final evaluation (eval.episodes) takes this step's place.
          if (ctx.numTimesteps >= ctx.totalTimesteps && !opts.skipFinalEval) return;
          monitor!.note = 'evaluating...';
          const [r] = await evaluateWithBaselines({ ...config, eval: { ...config.eval, baselines: [] } }, evalEnv, agentPolicy(agent!), config.train.eval_episodes, { datasetLength: parts.evalData.length });
          logger!.log(ctx.numTimesteps, evalScalars(r));
          monitor!.note = `eval IoU ${r.mean.final_iou.toFixed(3)}`;
          if (r.mean.final_iou > bestIou) {
            bestIou = r.mean.final_iou;
            await saveCheckpoint(paths.best);
          }
        }),
      );
    }
    const total = config.train.total_timesteps;
    const remaining = total - agent.numTimesteps;
    process.on('SIGINT', onSignal);
    if (remaining > 0) {
      await agent.learn({ totalTimesteps: checkpoint ? remaining : total, callbacks, resetNumTimesteps: !checkpoint });
    } else {
      log(`the run already has ${agent.numTimesteps} of ${total} steps`);
    }
    process.removeListener('SIGINT', onSignal);
    const stopped = monitor.stopRequested;
    const finalDir = checkpointDirFor(paths, agent.numTimesteps);
    if (!fs.existsSync(path.join(finalDir, 'agent.json'))) await saveCheckpoint(finalDir);
    if (stopped) {
      log(`${stopped}: saved ${finalDir}; continue with --resume ${paths.root}`);
      return { paths, numTimesteps: agent.numTimesteps, resumedFrom: checkpoint?.step ?? null, evaluation: [], report: null, stopped };
    }
    let evaluation: EvaluationReport[] = [];
    let report: ReportFiles | null = null;
    if (!opts.skipFinalEval) {
      log(`evaluating the agent and ${config.eval.baselines.join(', ') || 'no baselines'} on ${config.eval.episodes} episodes ...`);
      evaluation = await evaluateWithBaselines(config, evalEnv, agentPolicy(agent), config.eval.episodes, { datasetLength: parts.evalData.length, pictures: config.eval.pictures });
      const step = agent.numTimesteps;
      for (const r of evaluation) {
        const scalars = evalScalars(r);
        logger.log(step, r.policy === 'agent' ? scalars : Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k.replace(/^eval\//, `baseline/${r.policy}/`), v])));
      }
      fs.writeFileSync(paths.evalJson, `${JSON.stringify({ step, episodes: config.eval.episodes, policies: evaluation.map(reportToJson) }, null, 1)}\n`);
      logger.close();
      logger = null;
      report = await writeRunReport(paths.root, evaluation);
    }
    return { paths, numTimesteps: agent.numTimesteps, resumedFrom: checkpoint?.step ?? null, evaluation, report, stopped: null };
  } finally {
    process.removeListener('SIGINT', onSignal);
    logger?.close();
    agent?.dispose();
    await trainEnv.close();
    await evalEnv.close();
    parts.dispose();
  }
}
