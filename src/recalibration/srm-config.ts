/**
 * Configuration of the semantic recalibration module (SRM): network shape and online training.
 * Defaults follow AlignSAM where the paper says (q = 1 update per env step for the implicit branch,
 * 5 for the explicit one; Dice + BCE loss) and are our choices elsewhere (widths, learning rate,
 * replay size), picked to stay cheap on the wasm backend.
 */
import type { TextEncoderIdentity } from '../text/text-encoder';

export type SrmBranch = 'implicit' | 'explicit';
/** 'hard': a cell is foreground when at least half its pixels are (cell fraction >= 0.5); 'soft': the fraction itself. */
export type SrmTargetMode = 'hard' | 'soft';
/**
 * What the SRM reads: 'embedding', SAM's image embedding E alone; 'gated', the paper's
 * s_t = E * M_{t-1}. Gating zeroes every cell outside the current mask, so a click on a missed
 * part of the target looks exactly like a click on background; reading E keeps each cell's
 * evidence and makes the labels of one image consistent across the episode.
 */
export type SrmState = 'embedding' | 'gated';

export interface SrmConfig {
  /** 'implicit' for tasks without a name, 'explicit' for named targets (needs text vectors). */
  branch: SrmBranch;
  state: SrmState;
  /** Action grid side G: the SRM scores every cell. */
  gridSize: number;
  /** Channels D of the image embedding [E, E, D] (256 for SAM). */
  embedChannels: number;
  /** Length of the text vectors (explicit branch); 0 for implicit. */
  textDim: number;
  /** Width of the 1x1 projection of the embedding (computed once per image at inference). */
  projChannels: number;
  /** Width of the conv layers. */
  channels: number;
  /** Width of the text-image similarity keys and of the self-attention (explicit). */
  attentionDim: number;
  /**
   * Implicit branch: give the per-cell head the grid's mean features too, so a cell can be judged
   * against the whole image (two local conv blocks alone see only a neighbourhood). Default true.
   */
  globalContext: boolean;
  /** Probability at or above which a clicked cell is labelled positive. Default 0.5. */
  threshold: number;
  targetMode: SrmTargetMode;
  /** Loss weights: total = bceWeight * BCE + diceWeight * Dice. Default 1 and 1. */
  bceWeight: number;
  diceWeight: number;
  learningRate: number;
  /** Global gradient-norm clip; 0 disables. */
  maxGradNorm: number;
  /** q: gradient updates after each env step. Default 1 implicit, 5 explicit (the paper's). */
  updatesPerStep: number;
  /** Replay minibatch size per update. */
  batchSize: number;
  /** Most recent observations kept for updates. */
  replayCapacity: number;
  /** Seeds the initial weights and the replay sampling. */
  seed: number;
  /** The encoder that made the text vectors (explicit branch), recorded in checkpoints. */
  textEncoder: TextEncoderIdentity | null;
}

export type SrmConfigInput = Partial<SrmConfig> & Pick<SrmConfig, 'gridSize' | 'embedChannels'>;

export function resolveSrmConfig(input: SrmConfigInput): SrmConfig {
  const branch: SrmBranch = input.branch ?? (input.textDim && input.textDim > 0 ? 'explicit' : 'implicit');
  const c: SrmConfig = {
    branch,
    state: input.state ?? 'embedding',
    gridSize: input.gridSize,
    embedChannels: input.embedChannels,
    textDim: input.textDim ?? (input.textEncoder ? input.textEncoder.dim : 0),
    projChannels: input.projChannels ?? 32,
    channels: input.channels ?? 32,
    attentionDim: input.attentionDim ?? 32,
    globalContext: input.globalContext ?? true,
    threshold: input.threshold ?? 0.5,
    targetMode: input.targetMode ?? 'hard',
    bceWeight: input.bceWeight ?? 1,
    diceWeight: input.diceWeight ?? 1,
    learningRate: input.learningRate ?? 1e-3,
    maxGradNorm: input.maxGradNorm ?? 5,
    updatesPerStep: input.updatesPerStep ?? (branch === 'explicit' ? 5 : 1),
    batchSize: input.batchSize ?? 8,
    replayCapacity: input.replayCapacity ?? 256,
    seed: input.seed ?? 0,
    textEncoder: input.textEncoder ? { id: input.textEncoder.id, dim: input.textEncoder.dim } : null,
  };
  validateSrmConfig(c);
  return c;
}

/** A saved config that names no state describes the paper's gated state. */
export function withSavedState(c: SrmConfig): SrmConfig {
  return c && c.state === undefined ? { ...c, state: 'gated' } : c;
}

export function validateSrmConfig(c: SrmConfig, source = 'SRM config'): void {
  const fail = (field: string, msg: string, v: unknown): never => {
    throw new Error(`${source}: '${field}' ${msg}, got ${JSON.stringify(v)}`);
  };
  const posInt = (field: keyof SrmConfig) => {
    const v = c[field];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) fail(field, 'must be a positive integer', v);
  };
  if (c.branch !== 'implicit' && c.branch !== 'explicit') fail('branch', "must be 'implicit' or 'explicit'", c.branch);
  if (c.state !== 'embedding' && c.state !== 'gated') fail('state', "must be 'embedding' or 'gated'", c.state);
  (['gridSize', 'embedChannels', 'projChannels', 'channels', 'attentionDim', 'updatesPerStep', 'batchSize', 'replayCapacity'] as const).forEach(posInt);
  if (!(Number.isInteger(c.textDim) && c.textDim >= 0)) fail('textDim', 'must be an integer >= 0', c.textDim);
  if (c.branch === 'explicit' && c.textDim === 0) fail('textDim', 'must be > 0 for the explicit branch (it is conditioned on text vectors)', c.textDim);
  if (c.branch === 'implicit' && c.textDim !== 0) fail('textDim', 'must be 0 for the implicit branch (it takes no text)', c.textDim);
  if (typeof c.globalContext !== 'boolean') fail('globalContext', 'must be true or false', c.globalContext);
  if (!(c.threshold > 0 && c.threshold < 1)) fail('threshold', 'must be in (0, 1)', c.threshold);
  if (c.targetMode !== 'hard' && c.targetMode !== 'soft') fail('targetMode', "must be 'hard' or 'soft'", c.targetMode);
  if (!(c.bceWeight >= 0 && c.diceWeight >= 0 && c.bceWeight + c.diceWeight > 0)) fail('bceWeight', 'and diceWeight must be >= 0 and not both 0', [c.bceWeight, c.diceWeight]);
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) fail('learningRate', 'must be a finite number > 0', c.learningRate);
  if (!(c.maxGradNorm >= 0 && Number.isFinite(c.maxGradNorm))) fail('maxGradNorm', 'must be a finite number >= 0', c.maxGradNorm);
  if (!Number.isSafeInteger(c.seed)) fail('seed', 'must be a safe integer', c.seed);
  if (c.textEncoder !== null && (typeof c.textEncoder?.id !== 'string' || c.textEncoder.dim !== c.textDim)) {
    fail('textEncoder', `must be null or {id, dim} with dim = textDim (${c.textDim})`, c.textEncoder);
  }
}
