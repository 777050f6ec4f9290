/**
 * Turns per-env streams of one-step transitions into n-step transitions:
 *   R = r_t + gamma r_{t+1} + ... + gamma^{m-1} r_{t+m-1},  s' = s_{t+m},  discount = gamma^m,
 * with m = n, or fewer when the episode ends first (then s' is the final observation and done is
 * whether it terminated). n = 1 gives ordinary transitions.
 */
import type { PromptObservation } from '../../env/prompt/observation';

export interface Transition {
  obs: PromptObservation;
  action: number;
  reward: number;
  nextObs: PromptObservation;
  terminated: boolean;
  discount: number;
}

interface Pending {
  obs: PromptObservation;
  action: number;
  reward: number;
}

export class NStepAccumulator {
  private readonly pending: Pending[][];

  constructor(
    readonly nEnvs: number,
    readonly n: number,
    readonly gamma: number,
  ) {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n-step returns: n must be an integer >= 1, got ${n}`);
    this.pending = Array.from({ length: nEnvs }, () => []);
  }

  /** Transitions that left the window for this env. `nextObs` is the final observation when the episode ended. */
  push(
    env: number,
    obs: PromptObservation,
    action: number,
    reward: number,
    nextObs: PromptObservation,
    terminated: boolean,
    truncated: boolean,
  ): Transition[] {
    const q = this.pending[env];
    q.push({ obs, action, reward });
    const out: Transition[] = [];
    if (terminated || truncated) {
      while (q.length > 0) out.push(this.emit(q, q.length, nextObs, terminated));
    } else if (q.length === this.n) {
      out.push(this.emit(q, this.n, nextObs, false));
    }
    return out;
  }

  private emit(q: Pending[], m: number, nextObs: PromptObservation, terminated: boolean): Transition {
    let ret = 0;
    for (let k = m - 1; k >= 0; k--) ret = q[k].reward + this.gamma * ret;
    const first = q.shift() as Pending;
    return {
      obs: first.obs,
      action: first.action,
      reward: ret,
      nextObs,
      terminated,
      discount: Math.pow(this.gamma, m),
    };
  }

  /** Transitions still waiting for their n-th step. */
  get pendingCount(): number {
    return this.pending.reduce((s, q) => s + q.length, 0);
  }

  clear(): void {
    for (const q of this.pending) q.length = 0;
  }
}
