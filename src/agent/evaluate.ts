/**
 * evaluatePolicy after SB3's evaluate_policy: runs whole episodes on a (vector) env and reports the
 * mean and std of their returns. Episodes are spread evenly over the envs (env i runs
 * floor((n + i) / nEnvs) of them) so that envs with short episodes do not dominate the sample.
 */
import type { Env } from '../env/types';
import { toVectorEnv } from '../env/vector/to-vector-env';
import type { VectorEnv } from '../env/vector/types';

export interface PolicyLike {
  predict(observations: unknown[], opts?: { deterministic?: boolean }): Promise<Int32Array>;
}

export interface EvaluationResult {
  meanReward: number;
  stdReward: number;
  episodeRewards: number[];
  episodeLengths: number[];
}

export async function evaluatePolicy(
  agent: PolicyLike,
  env: VectorEnv<unknown, number> | Env<unknown, number> | Env<unknown, number>[],
  nEpisodes = 10,
  opts: { deterministic?: boolean; seed?: number } = {},
): Promise<EvaluationResult> {
  if (!(Number.isInteger(nEpisodes) && nEpisodes > 0))
    throw new Error(`evaluatePolicy: nEpisodes must be a positive integer, got ${nEpisodes}`);
  const venv = toVectorEnv(env, 'same-step', 'evaluatePolicy');
  const n = venv.numEnvs;
  const targets = Array.from({ length: n }, (_, i) => Math.floor((nEpisodes + i) / n));
  const counts = new Array(n).fill(0);
  const current = new Array(n).fill(0);
  const lengths = new Array(n).fill(0);
  const episodeRewards: number[] = [];
  const episodeLengths: number[] = [];
  let { observations } = await venv.reset(opts.seed === undefined ? {} : { seed: opts.seed });
  const deterministic = opts.deterministic ?? true;
  while (counts.some((c, i) => c < targets[i])) {
    const actions = await agent.predict(observations, { deterministic });
    const r = await venv.step(actions);
    for (let i = 0; i < n; i++) {
      if (counts[i] >= targets[i]) continue;
      current[i] += r.rewards[i];
      lengths[i]++;
      if (r.terminated[i] || r.truncated[i]) {
        episodeRewards.push(current[i]);
        episodeLengths.push(lengths[i]);
        counts[i]++;
        current[i] = 0;
        lengths[i] = 0;
      }
    }
    observations = r.observations;
  }
  const mean = episodeRewards.reduce((a, b) => a + b, 0) / episodeRewards.length;
  const std = Math.sqrt(episodeRewards.reduce((a, b) => a + (b - mean) ** 2, 0) / episodeRewards.length);
  return { meanReward: mean, stdReward: std, episodeRewards, episodeLengths };
}
