/**
 * Generalised advantage estimation (Schulman et al. 2016) over an [nSteps, nEnvs] rollout, laid out
 * step-major (index = step * nEnvs + env), exactly as Stable-Baselines3's RolloutBuffer computes it:
 *
 *   delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_{t+1}) - V(s_t)
 *   A_t     = delta_t + gamma * lambda * (1 - done_{t+1}) * A_{t+1}
 *   R_t     = A_t + V(s_t)
 *
 * where done_{t+1} is "step t ended its episode" (episodeStarts[t + 1], or `lastDones` after the
 * final step). Truncation is handled before this: the trainer adds gamma * V(final observation) to
 * the reward of a truncated step, so the bootstrap value survives the cut (SB3's behaviour).
 * With lambda = 1, R_t is the discounted return bootstrapped by the critic at the rollout's end.
 */
export interface GaeInput {
  rewards: ArrayLike<number>;
  values: ArrayLike<number>;
  /** 1 where the observation at this step is the first of an episode. */
  episodeStarts: ArrayLike<number>;
  /** V(s) of the observation after the last step, per env. */
  lastValues: ArrayLike<number>;
  /** Whether the last step ended each env's episode. */
  lastDones: ArrayLike<number | boolean>;
  nSteps: number;
  nEnvs: number;
  gamma: number;
  gaeLambda: number;
}

export function computeGae(inp: GaeInput): { advantages: Float32Array; returns: Float32Array } {
  const { nSteps, nEnvs, gamma, gaeLambda } = inp;
  const n = nSteps * nEnvs;
  for (const [name, arr] of [
    ['rewards', inp.rewards],
    ['values', inp.values],
    ['episodeStarts', inp.episodeStarts],
  ] as const) {
    if (arr.length !== n)
      throw new Error(`computeGae: '${name}' has ${arr.length} values, expected nSteps * nEnvs = ${n}`);
  }
  if (inp.lastValues.length !== nEnvs || inp.lastDones.length !== nEnvs) {
    throw new Error(`computeGae: lastValues/lastDones must have nEnvs = ${nEnvs} values`);
  }
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  for (let e = 0; e < nEnvs; e++) {
    let lastGae = 0;
    for (let t = nSteps - 1; t >= 0; t--) {
      let nextNonTerminal: number;
      let nextValue: number;
      if (t === nSteps - 1) {
        nextNonTerminal = 1 - Number(inp.lastDones[e]);
        nextValue = inp.lastValues[e];
      } else {
        nextNonTerminal = 1 - Number(inp.episodeStarts[(t + 1) * nEnvs + e]);
        nextValue = inp.values[(t + 1) * nEnvs + e];
      }
      const i = t * nEnvs + e;
      const delta = inp.rewards[i] + gamma * nextValue * nextNonTerminal - inp.values[i];
      lastGae = delta + gamma * gaeLambda * nextNonTerminal * lastGae;
      advantages[i] = lastGae;
      returns[i] = lastGae + inp.values[i];
    }
  }
  return { advantages, returns };
}

/** 1 - Var(y - yPred) / Var(y) (population variances); NaN when Var(y) is 0, as SB3 reports it. */
export function explainedVariance(yPred: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0 || yPred.length !== n) return NaN;
  const variance = (f: (i: number) => number): number => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += f(i);
    mean /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (f(i) - mean) ** 2;
    return s / n;
  };
  const vy = variance((i) => y[i]);
  if (vy === 0) return NaN;
  return 1 - variance((i) => y[i] - yPred[i]) / vy;
}

/**
 * Add gamma * V(final observation) to the reward of every step that was truncated but not
 * terminated, in place. A terminated step keeps its reward (the true value after it is 0).
 */
export function bootstrapTruncated(
  rewards: Float32Array | Float64Array,
  terminated: ArrayLike<boolean>,
  truncated: ArrayLike<boolean>,
  finalValues: ArrayLike<number>,
  gamma: number,
): void {
  for (let e = 0; e < rewards.length; e++) {
    if (truncated[e] && !terminated[e]) rewards[e] += gamma * finalValues[e];
  }
}
