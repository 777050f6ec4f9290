/**
 * Agent throughput on full-size SAM embeddings (256 x 64 x 64, random), default network, 10 x 10
 * grid: PPO update throughput (samples/s through forward + backward + Adam), DQN gradient steps/s,
 * and policy inference per vector step. The env here is a synthetic stand-in that costs nothing,
 * so the rollout time is the agent's share of an iteration (inference, buffering, bootstrapping);
 * with the real prompting env add its step time; the "real env" line measures that (vitb2 decoder).
 *
 *   npm run bench:agent -- [--envs 8] [--epochs 20] [--dqn-steps 40] [--backend wasm] [--real-env 0]
 *     [--json <file>]   also write the numbers as JSON (npm run bench:perf -- --only agent stores them)
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, BackendName } from '../src/backend';
import { DQN } from '../src/agent/dqn/dqn';
import { PPO, PPO_PRESETS } from '../src/agent/ppo/ppo';
import * as fs from 'fs';
import * as path from 'path';
import { SyntheticDataset } from '../src/data/synthetic';
import { promptObservationSpace, type PromptObservation } from '../src/env/prompt/observation';
import { SamPromptVectorEnv } from '../src/env/prompt/sam-prompt-vector-env';
import { Discrete } from '../src/env/spaces/discrete';
import type { VectorEnv, VectorResetResult, VectorStepResult } from '../src/env/vector/types';
import { loadSam } from '../src/sam/pretrained';
import { EmbeddingCache } from '../src/sam/embedding-cache';
import { Rng } from '../src/utils/rng';
import type { AgentBenchResult } from '../src/report/performance-data';
import { peakRssBytes } from './perf/peak-rss';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const E = 64;
const C = 256;
const G = 10;
const T = 15;

/** Random prompting-env stand-in: a pool of cached embeddings, T-step episodes, masked clicks. */
class SyntheticPromptVecEnv implements VectorEnv<PromptObservation, number> {
  readonly autoresetMode = 'same-step';
  readonly singleObservationSpace = promptObservationSpace({
    embeddingGrid: E,
    embeddingChannels: C,
    gridSize: G,
    numActions: G * G,
    textDim: 0,
  });
  readonly singleActionSpace = new Discrete(G * G);
  private readonly rng = new Rng(1);
  private readonly pool: tf.Tensor[];
  private t: number[];
  private image: number[];
  private clicked: Uint8Array[];
  private episodes = 0;

  constructor(
    readonly numEnvs: number,
    poolSize: number,
  ) {
    this.pool = Array.from({ length: poolSize }, (_, i) => tf.randomNormal([E, E, C], 0, 1, 'float32', i));
    this.t = new Array(numEnvs).fill(0);
    this.image = new Array(numEnvs).fill(0);
    this.clicked = Array.from({ length: numEnvs }, () => new Uint8Array(G * G));
  }

  private observe(i: number): PromptObservation {
    const mask = new Float32Array(E * E);
    for (let k = 0; k < mask.length; k++) mask[k] = this.rng.random();
    const c = this.clicked[i];
    return {
      embedding: { key: `img${this.image[i]}`, tensor: this.pool[this.image[i]] },
      maskProbs: mask,
      clicksPositive: Float32Array.from(c, (v, k) => (v && k % 2 === 0 ? 1 : 0)),
      clicksNegative: Float32Array.from(c, (v, k) => (v && k % 2 === 1 ? 1 : 0)),
      stepFraction: this.t[i] / T,
      actionMask: Uint8Array.from(c, (v) => 1 - v),
    };
  }

  private startEpisode(i: number): void {
    this.image[i] = this.episodes++ % this.pool.length;
    this.t[i] = 0;
    this.clicked[i].fill(0);
  }

  async reset(): Promise<VectorResetResult<PromptObservation>> {
    for (let i = 0; i < this.numEnvs; i++) this.startEpisode(i);
    return {
      observations: Array.from({ length: this.numEnvs }, (_, i) => this.observe(i)),
      infos: Array.from({ length: this.numEnvs }, () => ({})),
    };
  }

  async step(actions: ArrayLike<number>): Promise<VectorStepResult<PromptObservation>> {
    const n = this.numEnvs;
    const out: VectorStepResult<PromptObservation> = {
      observations: [],
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      infos: [],
    };
    for (let i = 0; i < n; i++) {
      this.clicked[i][actions[i]] = 1;
      this.t[i]++;
      out.rewards[i] = this.rng.random() < 0.5 ? 1 : -1;
      if (this.t[i] >= T) {
        out.truncated[i] = 1;
        const final = this.observe(i);
        this.startEpisode(i);
        out.observations.push(this.observe(i));
        out.infos.push({ final_observation: final });
      } else {
        out.observations.push(this.observe(i));
        out.infos.push({});
      }
    }
    return out;
  }

  async render(): Promise<null[]> {
    return new Array<null>(this.numEnvs).fill(null);
  }

  async close(): Promise<void> {
    tf.dispose(this.pool);
  }
}

async function main(): Promise<void> {
  const backend = await initBackend(arg('backend', 'wasm') as BackendName);
  const nEnvs = Number(arg('envs', '8'));
  const epochs = Number(arg('epochs', '20'));
  const dqnSteps = Number(arg('dqn-steps', '40'));
  process.stdout.write(`backend ${backend}; embeddings ${E}x${E}x${C}; grid ${G}x${G}; ${nEnvs} envs; horizon ${T}\n`);
  // Timings scale with contention: report the machine's load so that numbers can be compared.
  process.stdout.write(
    `machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}\n`,
  );

  // PPO with the paper's settings: one update per episode (nSteps = T) over nEnvs * T samples.
  const env = new SyntheticPromptVecEnv(nEnvs, 16);
  const ppo = new PPO(env, { ...PPO_PRESETS.alignsamPaper, nEpochs: epochs, seed: 0 });
  await ppo.learn({ totalTimesteps: 2 * nEnvs * T });
  const params = ppo.policy.params.count;
  const it = ppo.logs[ppo.logs.length - 1]; // the second iteration (the first warms up)
  const inferMs = (it.time_rollout_s * 1000) / T;
  const updS = it.time_update_s;
  process.stdout.write(
    `PPO  policy ${params} parameters\n` +
      `     update: ${it.update_samples} samples (${nEnvs * T} x ${epochs} epochs, batch 64) in ${updS.toFixed(2)} s = ${(it.update_samples / updS).toFixed(1)} samples/s\n` +
      `     rollout (agent side): ${inferMs.toFixed(1)} ms per vector step of ${nEnvs} envs; ` +
      `agent rollout / iteration = ${((100 * it.time_rollout_s) / (it.time_rollout_s + updS)).toFixed(1)}%\n`,
  );
  // The process's peak so far is PPO's: nothing else has run yet.
  process.stdout.write(
    `     peak RSS ${(peakRssBytes() / 2 ** 20).toFixed(0)} MiB (PPO, ${nEnvs} envs, full-size embeddings)\n`,
  );
  const result: AgentBenchResult = {
    backend,
    envs: nEnvs,
    epochs,
    embedding: [C, E, E],
    grid: G,
    horizon: T,
    ppoParameters: params,
    ppoUpdateSamplesPerSecond: it.update_samples / updS,
    ppoRolloutMsPerVectorStep: inferMs,
    ppoPeakRssBytes: peakRssBytes(),
    dqnGradientStepsPerSecond: null,
  };
  const tensorsBefore = tf.memory().numTensors;
  ppo.dispose();

  // The real prompting env's share: time vector steps of SamPromptVectorEnv with the full-size
  // decoder (vitb2 fixture weights, embeddings cached on disk by bench:env) and combine them with
  // the update and agent-side times above into one paper-style iteration (T vector steps + update).
  if (arg('real-env', '1') !== '0') {
    const sam = await loadSam(path.resolve(__dirname, '../../shared/fixtures/sam/vitb2/weights.safetensors'));
    const real = new SamPromptVectorEnv({
      numEnvs: nEnvs,
      dataset: new SyntheticDataset({ seed: 3, length: 2, imageSize: [320, 240] }),
      embeddings: new EmbeddingCache(sam, { dir: path.resolve(__dirname, '../.cache/bench-env') }),
      labelSource: 'oracle',
      gridSize: G,
      horizon: T,
    });
    const rng = new Rng(0);
    let obs = (await real.reset({ seed: 0 })).observations;
    const steps = Number(arg('env-steps', '4'));
    const t0 = performance.now();
    for (let k = 0; k < steps; k++) {
      obs = (
        await real.step(
          obs.map((o) => {
            const allowed = [...o.actionMask.keys()].filter((a) => o.actionMask[a]);
            return allowed[rng.int(allowed.length)];
          }),
        )
      ).observations;
    }
    const envMs = (performance.now() - t0) / steps;
    const envS = (envMs * T) / 1000;
    const total = envS + it.time_rollout_s + updS;
    process.stdout.write(
      `     real env (vitb2 decoder, ${nEnvs} envs): ${envMs.toFixed(0)} ms per vector step; one iteration = ` +
        `env ${((100 * envS) / total).toFixed(1)}%, agent rollout ${((100 * it.time_rollout_s) / total).toFixed(1)}%, update ${((100 * updS) / total).toFixed(1)}%\n`,
    );
    await real.close();
    sam.dispose();
  }

  // DQN: fill the buffer at random, then time gradient steps (batch 32, Double DQN).
  const dqn = new DQN(env, {
    seed: 0,
    learningStarts: 4 * nEnvs * T,
    trainFreq: 1,
    gradientSteps: dqnSteps,
    batchSize: 32,
    logInterval: 1_000_000,
  });
  await dqn.learn({ totalTimesteps: 4 * nEnvs * T + nEnvs });
  const warm = dqn.logs[dqn.logs.length - 1];
  await dqn.learn({ totalTimesteps: nEnvs, resetNumTimesteps: false });
  const d = dqn.logs[dqn.logs.length - 1];
  process.stdout.write(
    `DQN  ${d.gradient_steps} gradient steps (batch 32, double Q) in ${d.time_train_s.toFixed(2)} s = ${(d.gradient_steps / d.time_train_s).toFixed(1)} steps/s ` +
      `(warm-up: ${(warm.gradient_steps / warm.time_train_s).toFixed(1)} steps/s); replay holds ${dqn.replayBuffer.size} transitions, ${dqn.replayBuffer.store.size} embeddings\n`,
  );
  result.dqnGradientStepsPerSecond = d.gradient_steps / d.time_train_s;
  dqn.dispose();
  await env.close();
  const json = arg('json', '');
  if (json) {
    fs.writeFileSync(`${json}.tmp`, JSON.stringify(result));
    fs.renameSync(`${json}.tmp`, json);
  }
  process.stdout.write(`tensors after PPO: ${tensorsBefore}; after everything: ${tf.memory().numTensors}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
