/**
 * Reward configuration: a list of weighted terms, or a preset name. Validation names the offending
 * term and field.
 *
 * Presets:
 * - `alignsam`: label x 1, the paper's reward (+1 inside the target, -1 outside).
 * - `iou`:      iou_gain x 1; an episode's return is IoU_T - IoU_0.
 * - `mixed`:    label x 0.1 + iou_gain x 1 + final_iou x 1. Over the paper's 15 steps the label
 *               term contributes at most +-1.5, on the scale of the two IoU terms (each at most 1),
 *               so the agent is paid for good clicks AND for the mask they produce.
 */
import { parseOptions, s } from '../schema/schema';
import { BUILTIN_TERMS } from './terms';

export interface RewardTermConfig {
  /** A built-in term name (see `terms.ts`) or 'custom'. */
  term: string;
  /** Multiplier; default 1. Must be a finite number. */
  weight?: number;
  /** Key of this term in the breakdown; default the term name (required to tell two of one term apart). */
  name?: string;
  /** Term parameters (e.g. `radius`); for 'custom': `module`, `export`, `options`. */
  [param: string]: unknown;
}

export const REWARD_PRESETS = {
  alignsam: [{ term: 'label', weight: 1 }],
  iou: [{ term: 'iou_gain', weight: 1 }],
  mixed: [
    { term: 'label', weight: 0.1 },
    { term: 'iou_gain', weight: 1 },
    { term: 'final_iou', weight: 1 },
  ],
} as const satisfies Record<string, readonly RewardTermConfig[]>;

export type RewardPresetName = keyof typeof REWARD_PRESETS;

export type RewardConfig =
  | RewardPresetName
  | { preset: RewardPresetName }
  | { terms: readonly RewardTermConfig[] }
  | readonly RewardTermConfig[];

/** A validated term: name, term kind, weight and its parameters with defaults filled in. */
export interface NormalisedTerm {
  name: string;
  term: string;
  weight: number;
  params: Record<string, number>;
  /** For custom terms. */
  module?: string;
  exportName?: string;
  options?: unknown;
}

const COMMON_KEYS = ['term', 'weight', 'name'];

/** Each built-in term's parameters as one section, built once. */
const PARAM_SECTIONS = Object.fromEntries(
  Object.entries(BUILTIN_TERMS).map(([term, spec]) => [term, s.object(spec.params)]),
);
const CUSTOM_KEYS = ['module', 'export', 'options'];

function presetTerms(name: string): readonly RewardTermConfig[] {
  if (!Object.prototype.hasOwnProperty.call(REWARD_PRESETS, name)) {
    throw new Error(`unknown reward preset '${name}' (known: ${Object.keys(REWARD_PRESETS).join(', ')})`);
  }
  return REWARD_PRESETS[name as RewardPresetName];
}

/** The term list of a config in any of its forms. */
export function rewardTermsOf(config: RewardConfig): readonly RewardTermConfig[] {
  if (typeof config === 'string') return presetTerms(config);
  if (Array.isArray(config)) return config;
  if (config && typeof config === 'object') {
    const c = config as Record<string, unknown>;
    if ('preset' in c && 'terms' in c) throw new Error("reward config: give either 'preset' or 'terms', not both");
    if ('preset' in c) return presetTerms(String(c.preset));
    if ('terms' in c && Array.isArray(c.terms)) return c.terms as RewardTermConfig[];
  }
  throw new Error(
    `reward config: expected a preset name, {preset}, {terms: [...]} or a list of terms, got ${JSON.stringify(config)}`,
  );
}

/** Validate a config; returns the terms with names, weights and parameters resolved. */
export function normaliseRewardConfig(config: RewardConfig): NormalisedTerm[] {
  const terms = rewardTermsOf(config);
  if (terms.length === 0) throw new Error('reward config: no terms');
  const known = [...Object.keys(BUILTIN_TERMS), 'custom'];
  const seen = new Set<string>();
  return terms.map((t, i) => {
    if (t === null || typeof t !== 'object')
      throw new Error(`reward term ${i}: expected an object {term, weight, ...}`);
    if (typeof t.term !== 'string')
      throw new Error(`reward term ${i}: 'term' must be a string, got ${JSON.stringify(t.term)}`);
    const label = t.name !== undefined ? `${t.term}' (named '${String(t.name)}` : t.term;
    if (!known.includes(t.term)) throw new Error(`unknown reward term '${t.term}' (known: ${known.join(', ')})`);
    const weight = t.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight)) {
      throw new Error(
        `reward term '${label}': weight must be a finite number, got ${JSON.stringify(t.weight) ?? String(t.weight)}`,
      );
    }
    if (t.name !== undefined && (typeof t.name !== 'string' || t.name.length === 0)) {
      throw new Error(`reward term '${t.term}': name must be a non-empty string`);
    }
    const name = (t.name as string | undefined) ?? t.term;
    if (seen.has(name)) throw new Error(`reward config: two terms are named '${name}'; give one a distinct 'name'`);
    seen.add(name);

    if (t.term === 'custom') {
      const extra = Object.keys(t).filter((k) => !COMMON_KEYS.includes(k) && !CUSTOM_KEYS.includes(k));
      if (extra.length > 0)
        throw new Error(
          `reward term '${label}': unknown parameter '${extra[0]}' (allowed: ${[...COMMON_KEYS, ...CUSTOM_KEYS].join(', ')})`,
        );
      if (typeof t.module !== 'string') throw new Error(`reward term '${label}': 'module' (a path) is required`);
      if (t.export !== undefined && typeof t.export !== 'string')
        throw new Error(`reward term '${label}': 'export' must be a string`);
      return {
        name,
        term: t.term,
        weight,
        params: {},
        module: t.module,
        exportName: t.export as string | undefined,
        options: t.options,
      };
    }

    const spec = BUILTIN_TERMS[t.term];
    const allowed = [...COMMON_KEYS, ...Object.keys(spec.params)];
    const extra = Object.keys(t).filter((k) => !allowed.includes(k));
    if (extra.length > 0)
      throw new Error(`reward term '${label}': unknown parameter '${extra[0]}' (allowed: ${allowed.join(', ')})`);
    const given = Object.fromEntries(
      Object.keys(spec.params)
        .filter((p) => t[p] !== undefined)
        .map((p) => [p, t[p]]),
    );
    const params = parseOptions(`reward term '${label}'`, PARAM_SECTIONS[t.term], given) as Record<string, number>;
    return { name, term: t.term, weight, params };
  });
}
