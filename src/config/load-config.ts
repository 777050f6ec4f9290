/**
 * Load a run config: YAML file -> dotted overrides -> schema validation with defaults -> checks
 * across keys. Every problem names the file and the key's full path; the resolved config (defaults
 * filled, reward file inlined) can be written back as YAML and loads to the same value.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { ALLOW_CODE_ENV, codeAllowedByEnv } from './allow-code';
import {
  AlignSamConfig,
  configSchema,
  crossCheck,
  RewardSection,
  rewardSection,
  SchemaConfig,
} from './alignsam-config';
import { SchemaContext, SchemaIssue, showValue, validate } from '../schema/schema';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: SchemaIssue[],
  ) {
    super(
      issues.length === 1
        ? `${source}: ${issues[0].path}: ${issues[0].message}`
        : `${source}: ${issues.length} problems:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Keys that name an object's prototype machinery: no config needs them, and writing one pollutes every object. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The most values (scalars, lists and sections, counted each time an alias repeats one) a raw
 * config may hold. Real configs hold a few hundred; a YAML alias bomb expands past any bound.
 */
export const MAX_CONFIG_VALUES = 100_000;

/**
 * Walk a raw (parsed, unvalidated) config: refuse prototype keys anywhere and stop at
 * MAX_CONFIG_VALUES, before anything copies, validates or prints the value.
 */
export function checkRawConfig(raw: unknown, source: string, rootPath = ''): void {
  let count = 0;
  // The path is kept as segments and joined only for an error: a deep value must not cost a string per node.
  const segments: string[] = [];
  const ancestors = new Set<object>();
  const where = (): string => {
    const p = rootPath + segments.map((s, i) => (s.startsWith('[') || (i === 0 && !rootPath) ? s : `.${s}`)).join('');
    return p.length > 200 ? `${p.slice(0, 197)}...` : p || '(root)';
  };
  const fail = (message: string): never => {
    throw new ConfigError(source, [{ path: where(), message }]);
  };
  const walk = (v: unknown): void => {
    if (++count > MAX_CONFIG_VALUES)
      fail(
        `holds more than ${MAX_CONFIG_VALUES} values once YAML aliases are expanded (an alias bomb?); a config is far smaller`,
      );
    if (v === null || typeof v !== 'object') return;
    if (ancestors.has(v)) fail('a YAML alias that contains itself');
    ancestors.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        segments.push(`[${i}]`);
        walk(v[i]);
        segments.pop();
      }
    } else {
      for (const k of Object.keys(v)) {
        segments.push(k);
        if (PROTOTYPE_KEYS.has(k)) fail(`the key '${k}' is not allowed (it names an object prototype)`);
        walk((v as Record<string, unknown>)[k]);
        segments.pop();
      }
    }
    ancestors.delete(v);
  };
  walk(raw);
}

/** One dotted override: `agent.ppo.learning_rate=3e-4` (the value is read as YAML). */
export interface Override {
  path: string[];
  value: unknown;
  text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new ConfigError('--set', [
      { path: text, message: 'expected key.path=value (e.g. agent.ppo.learning_rate=3e-4)' },
    ]);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const parts = key.split('.');
  if (parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    throw new ConfigError('--set', [{ path: key, message: 'a key path is names joined by dots' }]);
  refusePrototypeKey(parts, key);
  let value: unknown;
  try {
    value = raw.trim() === '' ? null : yaml.load(raw);
  } catch (err) {
    throw new ConfigError('--set', [
      {
        path: key,
        message: `cannot read the value ${showValue(raw)} as YAML: ${(err as Error).message.split('\n')[0]}`,
      },
    ]);
  }
  checkRawConfig(value, '--set', key);
  return { path: parts, value, text };
}

function refusePrototypeKey(parts: readonly string[], key: string): void {
  const bad = parts.find((p) => PROTOTYPE_KEYS.has(p));
  if (bad !== undefined)
    throw new ConfigError('--set', [
      { path: key, message: `the key '${bad}' is not allowed (it names an object prototype)` },
    ]);
}

/** Apply overrides to a raw (unvalidated) config object, creating sections as needed. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly Override[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of overrides) {
    refusePrototypeKey(o.path, o.path.join('.'));
    checkRawConfig(o.value, '--set', o.path.join('.'));
    let node: Record<string, unknown> = out;
    for (let i = 0; i < o.path.length - 1; i++) {
      const k = o.path[i];
      const next = Object.prototype.hasOwnProperty.call(node, k) ? node[k] : undefined;
      if (next === undefined || next === null) node[k] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        throw new ConfigError('--set', [
          {
            path: o.path.slice(0, i + 1).join('.'),
            message: `is ${showValue(next)}, not a section, so '${o.text}' cannot be applied`,
          },
        ]);
      }
      node = node[k] as Record<string, unknown>;
    }
    node[o.path[o.path.length - 1]] = o.value;
  }
  return out;
}

function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `config file not found: ${file}` : `${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file }) ?? {};
  } catch (err) {
    throw new Error(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  checkRawConfig(raw, file);
  return raw;
}

/**
 * Config keys that took another name, as dotted paths. Configs and run folders written with the
 * old name still load (a run is resumed or evaluated from its saved config.yaml): the value is read
 * under the new name, with a warning.
 */
export const RENAMED_KEYS: readonly { from: string; to: string }[] = [
  { from: 'env.multimask', to: 'env.multimask_output' },
];

/** The section that holds a dotted path's last key, when the config has it. */
function sectionAt(root: Record<string, unknown>, parts: readonly string[]): Record<string, unknown> | null {
  let node: unknown = root;
  for (const p of parts.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, p)) return null;
    node = (node as Record<string, unknown>)[p];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : null;
}

const hasKey = (root: Record<string, unknown>, parts: readonly string[]): boolean =>
  Object.hasOwn(sectionAt(root, parts) ?? {}, parts[parts.length - 1]);

/** The raw config with renamed keys under their names (a copy when any is renamed: `raw` is left as it is). */
function renameKeys(raw: Record<string, unknown>, source: string, warn: (message: string) => void) {
  let out = raw;
  for (const { from, to } of RENAMED_KEYS) {
    const oldPath = from.split('.');
    if (!hasKey(out, oldPath)) continue;
    if (hasKey(out, to.split('.')))
      throw new ConfigError(source, [
        { path: from, message: `and ${to} are the same setting (${from} is its old name); keep only ${to}` },
      ]);
    const key = oldPath[oldPath.length - 1];
    out = applyOverrides(out, [{ path: to.split('.'), value: sectionAt(out, oldPath)![key], text: to }]);
    delete sectionAt(out, oldPath)![key];
    warn(`${source}: ${from} is read as ${to}, its name now; rename the key in the file`);
  }
  return out;
}

export interface LoadConfigOptions {
  overrides?: readonly (string | Override)[];
  /** Told about renamed keys read under their new names (default: console.warn). */
  onWarning?: (message: string) => void;
  /**
   * Accept custom reward terms, whose modules are loaded and run when the env is built. Default:
   * the ALIGNSAM_ALLOW_CODE environment variable is '1' (the CLI's --allow-code sets it).
   */
  allowCode?: boolean;
}

/** Validate a raw config object (as parsed from YAML); `source` names it in errors. */
export function resolveConfig(
  raw: unknown,
  source: string,
  options: LoadConfigOptions & { baseDir?: string } = {},
): AlignSamConfig {
  const overrides = (options.overrides ?? []).map((o) => (typeof o === 'string' ? parseOverride(o) : o));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      { path: '(root)', message: 'expected sections (sam, data, env, ...) at the top level' },
    ]);
  }
  checkRawConfig(raw, source);
  const renamed = renameKeys(raw as Record<string, unknown>, source, options.onWarning ?? ((m) => console.warn(m)));
  const merged = applyOverrides(renamed, overrides);
  const { value, issues } = validate(configSchema, merged);
  const annotate = (list: SchemaIssue[]): SchemaIssue[] =>
    list.map((i) => {
      const o = [...overrides]
        .reverse()
        .find(
          (ov) =>
            i.path === ov.path.join('.') ||
            i.path.startsWith(`${ov.path.join('.')}.`) ||
            i.path.startsWith(`${ov.path.join('.')}[`),
        );
      return o ? { ...i, message: `${i.message} (from --set ${o.text})` } : i;
    });
  if (issues.length > 0 || !value) throw new ConfigError(source, annotate(issues));
  const config: AlignSamConfig = { ...value, srm: { ...value.srm, enabled: value.srm.enabled ?? needsSrm(value.env) } };
  const rewardFile = config.reward.file;
  if (rewardFile !== null) inlineRewardFile(config, options.baseDir ?? '.', source);
  if (!(options.allowCode ?? codeAllowedByEnv())) refuseCode(config, source, rewardFile);
  if (config.reward.preset === null && config.reward.terms === null) config.reward.preset = 'alignsam';
  const ctx = new SchemaContext();
  crossCheck(config, ctx);
  checkHorizonFits(config.env, ctx);
  if (ctx.issues.length > 0) throw new ConfigError(source, annotate(ctx.issues));
  return config;
}

/** The env keys that decide the SRM and the free cells (eval_initial_prompts where the schema has it). */
type EnvKeys = Pick<SchemaConfig['env'], 'label_source' | 'initial_prompts' | 'grid_size' | 'horizon'> & {
  eval_initial_prompts?: string | null;
};

/** Whether the env settings need the SRM: it labels the clicks, or it picks the initial prompts. */
export function needsSrm(env: EnvKeys): boolean {
  return (
    env.label_source === 'recalibration' || env.initial_prompts === 'labeler' || env.eval_initial_prompts === 'labeler'
  );
}

/** A cell is clicked at most once, and 'labeler' initial prompts take up to two cells: the clicks must fit. */
function checkHorizonFits(env: EnvKeys, ctx: SchemaContext): void {
  const cells = env.grid_size * env.grid_size;
  const labelerKey =
    env.initial_prompts === 'labeler'
      ? 'env.initial_prompts'
      : env.eval_initial_prompts === 'labeler'
        ? 'env.eval_initial_prompts'
        : null;
  const free = labelerKey ? Math.max(0, cells - 2) : cells;
  if (env.horizon <= free) return;
  const room = labelerKey
    ? `the ${cells} cells of env.grid_size = ${env.grid_size} less the 2 that ${labelerKey} 'labeler' takes`
    : `the ${cells} cells of env.grid_size = ${env.grid_size} (${env.grid_size} x ${env.grid_size})`;
  ctx
    .at('env')
    .at('horizon')
    .fail(
      `${env.horizon} clicks do not fit in ${room}: a cell is clicked at most once, so use at most ${free} clicks or a larger grid`,
    );
}

/**
 * A config that names a module to load (a custom reward term) runs that module's code with the
 * user's rights as soon as the env is built; a config or run folder from someone else must not do
 * that unasked.
 */
function refuseCode(config: AlignSamConfig, source: string, rewardFile: string | null): void {
  const issues: SchemaIssue[] = [];
  (config.reward.terms ?? []).forEach((t, i) => {
    if (t.term !== 'custom') return;
    const from = rewardFile !== null ? ` (from reward.file ${rewardFile})` : '';
    issues.push({
      path: `reward.terms[${i}].module`,
      message: `a custom reward term loads and runs the module ${showValue(t.module, 200)}${from}; code named in a config runs only with --allow-code (or ${ALLOW_CODE_ENV}=1)`,
    });
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
}

/**
 * Load and validate a reward file ({preset} or {terms}), as configs/rewards/*.yaml. A custom
 * term's relative `module` resolves against the file's folder (the result holds it absolute).
 */
export function loadRewardFile(file: string): RewardSection {
  const { value, issues } = validate(rewardSection, readYamlFile(file));
  if (issues.length > 0 || !value) throw new ConfigError(file, issues);
  if (value.file !== null)
    throw new ConfigError(file, [{ path: 'file', message: 'a reward file cannot name another file' }]);
  if ((value.preset === null) === (value.terms === null))
    throw new ConfigError(file, [{ path: '(root)', message: 'give exactly one of preset or terms' }]);
  if (value.terms !== null) {
    const dir = path.dirname(path.resolve(file));
    value.terms = value.terms.map((t) =>
      t.term === 'custom' && typeof t.module === 'string' ? { ...t, module: path.resolve(dir, t.module) } : t,
    );
  }
  return value;
}

/** Replace `reward.file` by the preset or terms it holds (resolved against the config's folder). */
function inlineRewardFile(config: AlignSamConfig, baseDir: string, source: string): void {
  const file = path.resolve(baseDir, config.reward.file!);
  if (config.reward.preset !== null || config.reward.terms !== null) {
    throw new ConfigError(source, [{ path: 'reward', message: 'give one of preset, terms or file' }]);
  }
  let value: RewardSection;
  try {
    value = loadRewardFile(file);
  } catch (err) {
    throw new Error(`${source}: reward.file: ${(err as Error).message}`);
  }
  config.reward = { preset: value.preset, terms: value.terms, file: null };
}

/** Load, override and validate a config file. */
export function loadConfig(file: string, options: LoadConfigOptions = {}): AlignSamConfig {
  return resolveConfig(readYamlFile(file), file, { ...options, baseDir: path.dirname(file) });
}

/** The resolved config as YAML (loads back to the same value). */
export function dumpConfig(config: AlignSamConfig, header?: string): string {
  const body = yaml.dump(config, { lineWidth: 120, noRefs: true, sortKeys: false });
  return header
    ? `${header
        .split('\n')
        .map((l) => `# ${l}`)
        .join('\n')}\n${body}`
    : body;
}
