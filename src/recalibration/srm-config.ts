/**
 * Configuration of the semantic recalibration module (SRM): network shape and online training,
 * written once as a schema (types, defaults, ranges, meanings). The run config's srm section takes
 * its keys from here (src/config/alignsam-config.ts). Defaults follow AlignSAM where the paper says
 * (q = 1 update per env step for the implicit branch, 5 for the explicit one; Dice + BCE loss) and
 * are our choices elsewhere (widths, learning rate, replay size), picked to stay cheap on the wasm
 * backend.
 */
import type { z } from 'zod';
import { parseOptions, s } from '../schema/schema';
import type { TextEncoderIdentity } from '../text/text-encoder';

export const SRM_BRANCHES = ['implicit', 'explicit'] as const;
export type SrmBranch = (typeof SRM_BRANCHES)[number];

/**
 * What the SRM reads: 'embedding', SAM's image embedding E alone; 'gated', the paper's
 * s_t = E * M_{t-1}. Gating zeroes every cell outside the current mask, so a click on a missed
 * part of the target looks exactly like a click on background; reading E keeps each cell's
 * evidence and makes the labels of one image consistent across the episode.
 */
export const SRM_STATES = ['embedding', 'gated'] as const;
export type SrmState = (typeof SRM_STATES)[number];

/** 'hard': a cell is foreground when at least half its pixels are (cell fraction >= 0.5); 'soft': the fraction itself. */
export type SrmTargetMode = 'hard' | 'soft';

/**
 * Which ground truth on the grid the SRM learns: 'area', the target's fraction of each cell
 * (info.cell_fractions, then targetMode); 'centre', the target at each cell's centre pixel
 * (info.cell_centres), the point a click on the cell lands on and is judged by.
 */
export const SRM_CELL_TRUTHS = ['area', 'centre'] as const;
export type SrmCellTruth = (typeof SRM_CELL_TRUTHS)[number];

const textEncoderIdentity = s.custom<TextEncoderIdentity>('{id, dim}', (v, fail) => {
  const e = v as Partial<TextEncoderIdentity>;
  if (typeof v !== 'object' || v === null || typeof e.id !== 'string' || !Number.isInteger(e.dim))
    fail(`expected {id, dim}, got ${JSON.stringify(v)}`);
});

/**
 * The SRM's options. branch, textDim and updatesPerStep have no fixed default: they follow from
 * the text vectors given (resolveSrmConfig).
 */
export const srmOptionFields = {
  branch: s
    .enum(SRM_BRANCHES)
    .describe("'implicit' (no target name: two conv blocks) or 'explicit' (named target: text-conditioned)."),
  state: s
    .enum(SRM_STATES)
    .default('embedding')
    .describe(
      "What the SRM reads: 'embedding' (SAM's image embedding) or 'gated' (the paper's s_t = E * M_{t-1}, which hides every cell outside the current mask).",
    ),
  gridSize: s.integer({ min: 1 }).describe('Action grid side G: the SRM scores every cell.'),
  embedChannels: s.integer({ min: 1 }).describe('Channels D of the image embedding [E, E, D] (256 for SAM).'),
  textDim: s.integer({ min: 0 }).describe('Length of the text vectors (explicit branch); 0 for implicit.'),
  projChannels: s
    .integer({ min: 1 })
    .default(32)
    .describe('Width of the 1x1 projection of the embedding (computed once per image at inference).'),
  channels: s.integer({ min: 1 }).default(32).describe('Width of the conv layers.'),
  attentionDim: s
    .integer({ min: 1 })
    .default(32)
    .describe('Width of the text-image similarity keys and of the self-attention (explicit).'),
  globalContext: s
    .boolean()
    .default(true)
    .describe(
      "Implicit branch: give the per-cell head the grid's mean features too, so a cell can be judged against the whole image (two local conv blocks alone see only a neighbourhood).",
    ),
  threshold: s
    .number({ min: 0, max: 1, minExclusive: true, maxExclusive: true })
    .default(0.5)
    .describe('Probability at or above which a clicked cell is labelled positive.'),
  cellTruth: s
    .enum(SRM_CELL_TRUTHS)
    .default('area')
    .describe(
      "The ground truth on the grid it learns: 'area' (the target's fraction of each cell, then targetMode) or 'centre' (the target at each cell's centre, where a click on the cell lands).",
    ),
  targetMode: s
    .enum(['hard', 'soft'] as const)
    .default('hard')
    .describe("Cell targets: 'hard' (foreground when at least half its pixels are) or 'soft' (the fraction itself)."),
  bceWeight: s
    .number({ min: 0 })
    .default(1)
    .describe('Loss weight of BCE: total = bceWeight * BCE + diceWeight * Dice.'),
  diceWeight: s.number({ min: 0 }).default(1).describe('Loss weight of Dice.'),
  learningRate: s.number({ min: 0, minExclusive: true }).default(1e-3).describe('SRM Adam learning rate.'),
  maxGradNorm: s.number({ min: 0 }).default(5).describe('Global gradient-norm clip; 0 disables.'),
  updatesPerStep: s
    .integer({ min: 0 })
    .describe(
      'q: SRM gradient updates after each env step (the paper: 1 implicit, 5 explicit; 0: no online training).',
    ),
  batchSize: s.integer({ min: 1 }).default(8).describe('Replay minibatch size per update.'),
  replayCapacity: s.integer({ min: 1 }).default(256).describe('Most recent observations kept for updates.'),
  seed: s.integer().default(0).describe('Seeds the initial weights and the replay sampling.'),
  textEncoder: textEncoderIdentity
    .nullable()
    .default(null)
    .describe('The encoder that made the text vectors (explicit branch), recorded in checkpoints.'),
};

export const srmConfigSchema = s.object(srmOptionFields).superRefine((c, ctx) => {
  const fail = (path: string, message: string): void =>
    ctx.addIssue({ code: 'custom', path: [path], message, input: c });
  if (c.branch === 'explicit' && c.textDim === 0)
    fail('textDim', 'must be > 0 for the explicit branch (it is conditioned on text vectors)');
  if (c.branch === 'implicit' && c.textDim !== 0)
    fail('textDim', `must be 0 for the implicit branch (it takes no text), got ${c.textDim}`);
  if (c.bceWeight + c.diceWeight === 0) fail('bceWeight', 'and diceWeight must not both be 0');
  if (c.textEncoder !== null && c.textEncoder.dim !== c.textDim)
    fail('textEncoder', `must have dim = textDim (${c.textDim}), got ${c.textEncoder.dim}`);
});

export type SrmConfig = z.infer<typeof srmConfigSchema>;

export type SrmConfigInput = Partial<SrmConfig> & Pick<SrmConfig, 'gridSize' | 'embedChannels'>;

/** The full config: the branch follows from text vectors, q from the branch, the rest from the schema's defaults. */
export function resolveSrmConfig(input: SrmConfigInput): SrmConfig {
  const branch: SrmBranch = input.branch ?? (input.textDim && input.textDim > 0 ? 'explicit' : 'implicit');
  return parseOptions('SRM config', srmConfigSchema, {
    ...input,
    branch,
    textDim: input.textDim ?? (input.textEncoder ? input.textEncoder.dim : 0),
    updatesPerStep: input.updatesPerStep ?? (branch === 'explicit' ? 5 : 1),
    textEncoder: input.textEncoder ? { id: input.textEncoder.id, dim: input.textEncoder.dim } : null,
  });
}

/**
 * A saved config from before a field existed describes what was then the only behaviour: no
 * state is the paper's gated state, no cell truth is 'area'.
 */
export function withSavedState(c: SrmConfig): SrmConfig {
  if (!c || typeof c !== 'object') return c;
  return {
    ...c,
    ...(c.state === undefined ? { state: 'gated' as const } : {}),
    ...(c.cellTruth === undefined ? { cellTruth: 'area' as const } : {}),
  };
}

/**
 * The config less what only online training reads (q, its minibatch, its replay): two SRMs equal
 * here come out of the same supervised pre-training identical.
 */
export function pretrainingConfig(c: SrmConfig): Omit<SrmConfig, 'updatesPerStep' | 'batchSize' | 'replayCapacity'> {
  const { updatesPerStep: _q, batchSize: _b, replayCapacity: _r, ...rest } = c;
  return rest;
}

/** Check a complete (saved) config; errors name `source` and the field. */
export function validateSrmConfig(c: SrmConfig, source = 'SRM config'): void {
  parseOptions(source, srmConfigSchema, c);
}
