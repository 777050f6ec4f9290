/**
 * Serializable schedules (a checkpoint must be able to store them, so no closures). A schedule is
 * evaluated at `progressRemaining`, which goes from 1 at the start of training to 0 at the end, as
 * in Stable-Baselines3.
 */
export type Schedule = number | { type: 'linear'; start: number; end: number };

/** SB3's linear_schedule and CleanRL's --anneal-lr: start at `start`, reach `end` when training ends. */
export function linearSchedule(start: number, end = 0): Schedule {
  return { type: 'linear', start, end };
}

export function scheduleValue(s: Schedule, progressRemaining: number, name = 'schedule'): number {
  if (typeof s === 'number') {
    if (!Number.isFinite(s)) throw new Error(`${name}: must be a finite number, got ${s}`);
    return s;
  }
  if (
    s === null ||
    typeof s !== 'object' ||
    s.type !== 'linear' ||
    !Number.isFinite(s.start) ||
    !Number.isFinite(s.end)
  ) {
    throw new Error(`${name}: expected a number or {type: 'linear', start, end}, got ${JSON.stringify(s)}`);
  }
  const p = Math.min(1, Math.max(0, progressRemaining));
  return s.end + (s.start - s.end) * p;
}

/**
 * SB3's exploration schedule for DQN: linear from `initial` to `final` over the first `fraction` of
 * training, then constant.
 */
export function explorationValue(initial: number, final: number, fraction: number, progressRemaining: number): number {
  const progress = 1 - progressRemaining;
  if (fraction <= 0 || progress > fraction) return final;
  return initial + (progress * (final - initial)) / fraction;
}
