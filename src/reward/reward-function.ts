import { RewardContext, MaskScores, validateRewardContext } from './context';
import { NormalisedTerm, normaliseRewardConfig, RewardConfig } from './config';
import { loadCustomTerm } from './custom-term';
import { BUILTIN_TERMS, TermFn } from './terms';

export interface RewardBreakdown {
  /** sum over terms of weight x value. */
  total: number;
  /** Each term's unweighted value, keyed by term name. */
  values: Record<string, number>;
  /** Each term's weighted contribution. */
  weighted: Record<string, number>;
}

export interface RewardFunctionOptions {
  /** Folder that relative custom-module paths resolve against (the config file's). Default cwd. */
  baseDir?: string;
  /** Check every context's fields and sizes (cheap; default true). */
  validate?: boolean;
}

/**
 * A reward as a weighted sum of named terms: r_t = sum_i w_i term_i(ctx_t). Built from a config
 * (preset name or term list, validated on construction); `compute` returns the total and the
 * per-term breakdown for logging.
 */
export class RewardFunction {
  readonly terms: readonly NormalisedTerm[];
  private readonly fns: TermFn[];
  private readonly validate: boolean;

  constructor(config: RewardConfig, options: RewardFunctionOptions = {}) {
    this.terms = normaliseRewardConfig(config);
    this.validate = options.validate ?? true;
    const baseDir = options.baseDir ?? process.cwd();
    this.fns = this.terms.map((t) =>
      t.term === 'custom'
        ? loadCustomTerm(t.module as string, t.exportName, t.options, baseDir, t.name)
        : BUILTIN_TERMS[t.term].build(t.params),
    );
  }

  compute(ctx: RewardContext): RewardBreakdown {
    if (this.validate) validateRewardContext(ctx);
    const scores = new MaskScores(ctx);
    const out: RewardBreakdown = { total: 0, values: {}, weighted: {} };
    this.terms.forEach((t, i) => {
      let v: unknown;
      try {
        v = this.fns[i](ctx, scores);
      } catch (e) {
        throw new Error(`reward term '${t.name}' threw: ${(e as Error).message}`);
      }
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`reward term '${t.name}' returned ${String(v)}, not a finite number`);
      out.values[t.name] = v;
      out.weighted[t.name] = t.weight * v;
      out.total += t.weight * v;
    });
    return out;
  }

  /** The total only. */
  reward(ctx: RewardContext): number {
    return this.compute(ctx).total;
  }

  /** e.g. "0.1 x label + 1 x iou_gain", for logs. */
  describe(): string {
    return this.terms.map((t) => `${t.weight} x ${t.name}${t.term !== t.name ? ` (${t.term})` : ''}`).join(' + ');
  }
}
