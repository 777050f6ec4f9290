/**
 * The switch that lets configs name code to run (custom reward term modules). Kept free of imports
 * so the CLI can read it without loading the config schema (and TensorFlow.js behind it).
 */
export const ALLOW_CODE_ENV = 'ALIGNSAM_ALLOW_CODE';

export function codeAllowedByEnv(): boolean {
  return process.env[ALLOW_CODE_ENV] === '1';
}
