/**
 * A reward term from the user's own module. The module (CommonJS .js, or .ts when ts-node is
 * registered) exports a function `(ctx: RewardContext, scores: MaskScores, options) => number`,
 * under `export` (default: the module itself if it is a function, else its `default` export).
 * The path resolves against `baseDir` unless absolute (a run passes none: the working directory;
 * a module named in a `reward.file` is made absolute against that file's folder when it loads).
 *
 * Loading the module runs its code. A config naming one loads only with --allow-code or
 * ALIGNSAM_ALLOW_CODE=1 (see docs/reliability.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { MaskScores, RewardContext } from './context';
import type { TermFn } from './terms';

export type CustomRewardFn = (ctx: RewardContext, scores: MaskScores, options: unknown) => number;

export function loadCustomTerm(
  modulePath: string,
  exportName: string | undefined,
  options: unknown,
  baseDir: string,
  termName: string,
): TermFn {
  if (typeof modulePath !== 'string' || modulePath.length === 0) {
    throw new Error(`reward term '${termName}': a custom term needs 'module' (a path to a JS module)`);
  }
  const resolved = path.resolve(baseDir, modulePath);
  if (!fs.existsSync(resolved)) {
    throw new Error(`reward term '${termName}': module ${resolved} does not exist`);
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(resolved);
  } catch (e) {
    throw new Error(`reward term '${termName}': loading ${resolved} failed: ${(e as Error).message}`);
  }
  let fn: unknown;
  if (exportName !== undefined) {
    fn = (mod as Record<string, unknown>)?.[exportName];
  } else {
    fn = typeof mod === 'function' ? mod : (mod as Record<string, unknown>)?.default;
  }
  if (typeof fn !== 'function') {
    const what = exportName === undefined ? 'a function (module.exports or default)' : `a function '${exportName}'`;
    throw new Error(`reward term '${termName}': ${resolved} does not export ${what}`);
  }
  const f = fn as CustomRewardFn;
  return (ctx, scores) => f(ctx, scores, options);
}
