/**
 * A training run from a resolved config: build SAM, data, envs and the agent; learn with
 * checkpoints, metrics (metrics.jsonl + TensorBoard), a progress line and periodic evaluation;
 * then evaluate the agent against the baseline clickers on the same episodes and write the report.
 * `resume` continues a run folder from its latest checkpoint.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { CheckpointCallback, type Callback } from '../agent/callbacks';
import type { AlignSamConfig } from '../config/alignsam-config';
import { dumpConfig } from '../config/load-config';
import { isResumablePromptEnv } from '../env/prompt/prompt-env-state';
import { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { writeFolderAtomic } from '../io/atomic-folder';
import { pretrainSrmOnImages } from '../recalibration/srm-training';
import { pretrainingConfig } from '../recalibration/srm-config';
import { loadSrmInto, saveSrm } from '../recalibration/srm-io';
import type { SamModel } from '../sam/modeling/sam-model';
import { agentPolicy } from '../eval/clickers';
import type { ComparisonReport } from '../eval/compare';
import { evaluateFromConfig, evaluationScalars, writeEvaluationJson } from '../eval/run-evaluation';
import { writeRunReport, type ReportFiles } from '../report/run-report';
import {
  Agent,
  createAgent,
  createEvalEnv,
  createRunParts,
  createTrainEnv,
  envOptions,
  loadAgent,
  srmDirOf,
  type RunParts,
  type TrainVecEnv,
} from './factory';
import { EpisodeStats, EveryNSteps, TrainingMonitor } from './monitor';
import { hasRunState, readRunState, RUN_STATE_FILE, writeRunState } from './run-state';
import { checkpointDirFor, createRunDirLocked, openRunDirLocked, writeRunConfig, type RunPaths } from './run-dir';
import type { RunLock } from './run-lock';
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
  evaluation: ComparisonReport[];
  report: ReportFiles | null;
  /** The checkpoint the final evaluation evaluated (the one `export` takes by default). */
  checkpoint: string | null;
  stopped: string | null;
}

/** Every scalar setting of the config by its dotted key (lists as JSON), for TensorBoard's HParams. */
function configHparams(config: AlignSamConfig): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  const walk = (v: unknown, key: string) => {
    if (v === null || v === undefined) out[key] = 'null';
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, key ? `${key}.${k}` : k);
  };
  walk(config, '');
  return out;
}

/** What a pre-trained SRM depends on; equal keys give bit-identical SRMs on one backend. */
function srmPretrainKey(config: AlignSamConfig, parts: RunParts): string {
  const { cache_dir: _dir, ...pretrain } = config.srm.pretrain;
  const what = {
    sam: parts.sam.weightsId,
    data: config.data,
    grid: config.env.grid_size,
    srm: pretrainingConfig(parts.labeler!.srm.config),
    pretrain,
    backend: tf.getBackend(),
  };
  return crypto.createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 24);
}

/** Pre-train the SRM on the ground truth of the first training images, before RL (or load the same from the cache). */
async function pretrainSrmFromConfig(config: AlignSamConfig, parts: RunParts, log: (m: string) => void): Promise<void> {
  const srm = parts.labeler!.srm;
  const p = config.srm.pretrain;
  const cached = p.cache_dir ? path.join(p.cache_dir, srmPretrainKey(config, parts)) : null;
  if (cached && fs.existsSync(path.join(cached, 'srm.json'))) {
    await loadSrmInto(srm, cached);
    log(`SRM pre-training: loaded ${cached} (same SAM, data, grid, SRM settings and seed)`);
    return;
  }
  const images = Math.min(p.images, parts.trainData.length);
  // The loop visits these images one at a time: encode them together first, on every encoder worker.
  if (parts.cache.encoder && (parts.cache.dir !== null || images <= config.env.embedding_cache.max_in_memory)) {
    await parts.cache.warmMany(
      (async function* () {
        for (let i = 0; i < images; i++) {
          const sample = await parts.trainData.get(i);
          yield { image: sample.image, name: `training sample ${i} (${sample.id})` };
        }
      })(),
    );
  }
  const env = new SamPromptEnv({
    ...envOptions(config, parts, 'train'),
    labelSource: 'oracle',
    labeler: undefined,
    observeLabeler: false,
    initialPrompts: 'none',
  });
  const t0 = Date.now();
  try {
    const r = await pretrainSrmOnImages(srm, env, {
      images,
      updates: p.updates,
      batchSize: p.batch_size,
      onUpdate: (done, stats) => {
        if (done % 250 !== 0 && done !== p.updates) return;
        const rate = done / Math.max(1e-3, (Date.now() - t0) / 1000);
        log(
          `SRM pre-training ${done}/${p.updates} updates on ${images} images, loss ${stats.loss.toFixed(4)}, ${rate.toFixed(1)} updates/s, ETA ${Math.round((p.updates - done) / rate)} s`,
        );
      },
    });
    log(`SRM pre-training: mean loss ${r.loss.toFixed(4)} over ${r.updates} updates`);
  } finally {
    await env.close();
  }
  if (cached) await saveSrm(srm, cached);
}

/**
 * Put the envs (samples, episodes in flight, sample RNGs), the agent's episode returns and the
 * logged episode statistics back where a checkpoint left them; returns the best evaluation IoU so
 * far. What a checkpoint lacks (one written by an older version) is named in a warning: training
 * goes on from it, with new episodes or an empty SRM replay, but not as an uninterrupted run would.
 */
async function restoreRunState(
  dir: string,
  config: AlignSamConfig,
  parts: RunParts,
  env: TrainVecEnv,
  agent: Agent,
  stats: EpisodeStats,
  log: (m: string) => void,
): Promise<number> {
  const lacking: string[] = [];
  const fresh: string[] = [];
  let bestIou = -Infinity;
  const state = hasRunState(dir) ? await readRunState(dir) : null;
  if (!state) lacking.push(`the envs' state (${RUN_STATE_FILE})`);
  if (!agent.canContinueEpisodes) lacking.push("the agent's episodes in flight (agent.json state.episodes)");
  if (state && agent.canContinueEpisodes && isResumablePromptEnv(env)) {
    const file = path.join(dir, RUN_STATE_FILE);
    stats.setState(state.episodeStats, `${file}: episodeStats`);
    agent.continueEpisodes(await env.setState(state.envs, file));
    bestIou = state.bestEvalIou ?? -Infinity;
  } else {
    fresh.push('new episodes');
  }
  if (parts.labeler && !fs.existsSync(path.join(srmDirOf(dir), 'replay.safetensors'))) {
    lacking.push('the SRM replay (srm/replay.safetensors)');
    fresh.push('an empty SRM replay');
  }
  if (lacking.length > 0) {
    log(
      `warning: ${dir} was saved without ${lacking.join(', ')} (a checkpoint of an older version): training continues from it with ${fresh.join(' and ')}, so it will not repeat an uninterrupted run exactly`,
    );
  }
  const d = config.agent.dqn;
  if (config.agent.algo === 'dqn' && (!d.save_replay_buffer || d.n_steps > 1)) {
    log(
      `warning: ${!d.save_replay_buffer ? 'agent.dqn.save_replay_buffer is false: the replay buffer was not saved' : 'agent.dqn.n_steps > 1: transitions still waiting for their n-th step were not saved'}, so the resumed run does not repeat an uninterrupted one exactly`,
    );
  }
  return bestIou;
}

export async function trainRun(opts: TrainRunOptions): Promise<TrainRunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  let config = opts.config;
  let checkpoint: { dir: string; step: number } | null = null;
  let lock: RunLock | null = null;
  let paths: RunPaths | null = null;
  if (opts.resumeDir) {
    const opened = openRunDirLocked(opts.resumeDir, opts.resumeOverrides ?? [], { log });
    ({ paths, config, checkpoint, lock } = opened);
    if ((opts.resumeOverrides ?? []).length > 0) {
      // The run's config.yaml stays the truth for the next resume.
      writeRunConfig(
        paths,
        config,
        `Resolved config of run ${path.basename(paths.root)}, resumed with --set ${opts.resumeOverrides!.join(' --set ')}.`,
      );
    }
    log(
      checkpoint
        ? `resuming ${paths.root} from ${checkpoint.dir} (${checkpoint.step} steps)`
        : `resuming ${paths.root}: no checkpoint yet, starting over`,
    );
  }
  let parts: RunParts;
  let env: Awaited<ReturnType<typeof createTrainEnv>>;
  try {
    // SAM, data and envs are checked before a new run folder exists, so a bad config leaves none behind.
    parts = await createRunParts(config, { sam: opts.sam, srmCheckpointDir: checkpoint?.dir });
    try {
      env = await createTrainEnv(config, parts, { backend: tf.getBackend() });
      if (!paths) {
        ({ paths, lock } = createRunDirLocked(config, opts.configFile ?? null, { log }));
        log(`run folder: ${paths.root}`);
      }
    } catch (err) {
      parts.dispose();
      throw err;
    }
  } catch (err) {
    lock?.release();
    throw err;
  }
  try {
    return await trainInFolder(opts, config, paths, checkpoint, parts, env, log);
  } finally {
    lock?.release();
  }
}

async function trainInFolder(
  opts: TrainRunOptions,
  config: AlignSamConfig,
  paths: RunPaths,
  checkpoint: { dir: string; step: number } | null,
  parts: RunParts,
  env: Awaited<ReturnType<typeof createTrainEnv>>,
  log: (m: string) => void,
): Promise<TrainRunResult> {
  // With the SRM, the agent trains on a wrapper that feeds the SRM every step's states (q updates).
  const trainEnv = parts.labeler ? parts.labeler.wrapTrainingEnv(env) : env;
  const evalEnv = createEvalEnv(config, parts);
  let agent: Agent | null = null;
  let logger: RunLogger | null = null;
  const onSignal = () => monitor?.requestStop('interrupted (SIGINT)');
  let monitor: TrainingMonitor | null = null;
  try {
    agent = checkpoint ? await loadAgent(checkpoint.dir, trainEnv) : createAgent(config, trainEnv);
    const stats = new EpisodeStats();
    let bestIou = checkpoint ? await restoreRunState(checkpoint.dir, config, parts, env, agent, stats, log) : -Infinity;
    if (!checkpoint && parts.labeler && config.srm.pretrain.images > 0 && config.srm.pretrain.updates > 0) {
      await pretrainSrmFromConfig(config, parts, log);
    }
    logger = new RunLogger(paths.root, {
      resumeFromStep: checkpoint ? checkpoint.step : opts.resumeDir ? 0 : undefined,
    });
    if (!checkpoint) logger.logRunInfo(dumpConfig(config), configHparams(config));
    const algo = config.agent.algo;
    const progress = opts.progress === undefined ? (config.train.progress ? process.stderr : null) : opts.progress;
    monitor = new TrainingMonitor({ agent, algo, logger, progress, stats, extraMetrics: parts.labeler?.metrics });
    const callbacks: Callback[] = [monitor];
    // One folder renamed into place: the agent, the SRM and (`withRunState`) the envs and the
    // run's counters, all of one moment or none.
    const saveCheckpoint = async (dir: string, withRunState: boolean) => {
      await writeFolderAtomic(dir, async (tmp) => {
        await agent!.writeCheckpoint(tmp);
        if (parts.labeler) await parts.labeler.save(tmp);
        if (withRunState && isResumablePromptEnv(env)) {
          await writeRunState(tmp, {
            envs: await env.getState(),
            episodeStats: stats.getState(),
            bestEvalIou: Number.isFinite(bestIou) ? bestIou : null,
          });
        }
      });
    };
    // Saved after the update that ends a rollout, so that a resume continues exactly.
    if (config.train.checkpoint_every > 0)
      callbacks.push(
        new CheckpointCallback({
          everySteps: config.train.checkpoint_every,
          dir: paths.checkpoints,
          save: (dir) => saveCheckpoint(dir, true),
        }),
      );
    if (config.train.eval_every > 0) {
      callbacks.push(
        new EveryNSteps(config.train.eval_every, async (ctx) => {
          // At the end, the final evaluation (eval.episodes) takes this step's place.
          if (ctx.numTimesteps >= ctx.totalTimesteps && !opts.skipFinalEval) return;
          monitor!.note = 'evaluating...';
          const [r] = await evaluateFromConfig(config, evalEnv, agentPolicy(agent!), config.train.eval_episodes, {
            datasetLength: parts.evalData.length,
            baselines: [],
          });
          logger!.log(ctx.numTimesteps, evaluationScalars(r));
          monitor!.note = `eval IoU ${r.mean.final_iou.toFixed(3)}`;
          if (r.mean.final_iou > bestIou) {
            bestIou = r.mean.final_iou;
            // Mid-rollout: the agent to export, not a point to resume from.
            await saveCheckpoint(paths.best, false);
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
    if (!fs.existsSync(path.join(finalDir, 'agent.json'))) await saveCheckpoint(finalDir, true);
    if (stopped) {
      log(`${stopped}: saved ${finalDir}; continue with --resume ${paths.root}`);
      return {
        paths,
        numTimesteps: agent.numTimesteps,
        resumedFrom: checkpoint?.step ?? null,
        evaluation: [],
        report: null,
        stopped,
        checkpoint: finalDir,
      };
    }
    let evaluation: ComparisonReport[] = [];
    let report: ReportFiles | null = null;
    if (!opts.skipFinalEval) {
      log(
        `evaluating ${path.relative(paths.root, finalDir)} (the checkpoint \`alignsam export\` takes) and ${config.eval.baselines.join(', ') || 'no baselines'} on ${config.eval.episodes} episodes, protocol '${evalEnv.protocol}' ...`,
      );
      const progress = opts.progress === undefined ? (config.train.progress ? process.stderr : null) : opts.progress;
      evaluation = await evaluateFromConfig(config, evalEnv, agentPolicy(agent), config.eval.episodes, {
        datasetLength: parts.evalData.length,
        pictures: config.eval.pictures,
        progress,
      });
      const step = agent.numTimesteps;
      for (const r of evaluation) logger.log(step, evaluationScalars(r));
      await writeEvaluationJson(paths.evalJson, evaluation, {
        checkpoint: path.relative(paths.root, finalDir),
        step,
        episodes: config.eval.episodes,
      });
      logger.close();
      logger = null;
      report = await writeRunReport(paths.root, evaluation);
    }
    return {
      paths,
      numTimesteps: agent.numTimesteps,
      resumedFrom: checkpoint?.step ?? null,
      evaluation,
      report,
      stopped: null,
      checkpoint: finalDir,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    logger?.close();
    agent?.dispose();
    await trainEnv.close();
    await evalEnv.close();
    parts.dispose();
  }
}
