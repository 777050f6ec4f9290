/**
 * The manifest of an export folder (alignsam-export.json) and its one reader, shared by the Node
 * loader (./export.ts) and the browser demo: nothing here reads files.
 */
import type { LabelSource } from '../env/prompt/action-grid';
import type { InitialPrompts } from '../env/prompt/prompt-env-options';
import type { TextEncoderIdentity } from '../text/text-encoder';

export const EXPORT_MANIFEST = 'alignsam-export.json';
export const EXPORT_FORMAT = 'alignsam-tfjs/export';
export const EXPORT_VERSION = 1;

/** The env settings an exported agent runs with, under the env's option names (PromptEnvOptions). */
export interface ExportEnvSettings {
  gridSize: number;
  horizon: number;
  labelSource: LabelSource;
  initialPrompts: InitialPrompts;
  multimaskOutput: boolean | 'single-point';
  /** Absent: trained without mask input. */
  maskInput?: boolean;
  observeLabeler?: boolean;
}

export interface ExportManifest {
  format: string;
  formatVersion: number;
  source: { run: string; checkpoint: string; numTimesteps: number };
  algo: string;
  env: ExportEnvSettings;
  sam: { weights: string; config: string | null; copied: boolean };
  text: {
    encoder: 'none' | 'hashed' | 'use';
    identity: TextEncoderIdentity | null;
    useDir: string | null;
    dim: number;
  };
  srm: string | null;
  categories: string | null;
}

/**
 * Keys of the manifest's env that exports already shipped spell otherwise (the committed
 * models/default-agent among them), read under the env option's name.
 */
const RENAMED_ENV_KEYS: Readonly<Record<string, keyof ExportEnvSettings>> = { multimask: 'multimaskOutput' };

/**
 * A parsed manifest, checked and with its env under the current option names; `source` (the
 * manifest's path or URL) names it in errors.
 */
export function readExportManifest(json: unknown, source: string): ExportManifest {
  const m = json as Partial<ExportManifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== EXPORT_FORMAT)
    throw new Error(`${source}: not an AlignSAM export (format ${JSON.stringify(m?.format)})`);
  if (m.formatVersion !== EXPORT_VERSION) throw new Error(`${source}: unsupported formatVersion ${m.formatVersion}`);
  if (m.env === null || typeof m.env !== 'object') throw new Error(`${source}: env is missing`);
  const env: Record<string, unknown> = { ...m.env };
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(env, key);
  for (const [old, key] of Object.entries(RENAMED_ENV_KEYS)) {
    if (!has(old)) continue;
    if (has(key)) throw new Error(`${source}: env has both '${old}' and '${key}' (the same setting); keep '${key}'`);
    env[key] = env[old];
    delete env[old];
  }
  const multimask = env.multimaskOutput;
  if (!(typeof multimask === 'boolean' || multimask === 'single-point'))
    throw new Error(
      `${source}: env.multimaskOutput must be true, false or 'single-point', got ${JSON.stringify(multimask)}`,
    );
  return { ...(m as ExportManifest), env: env as unknown as ExportEnvSettings };
}
