/**
 * Load a run config: YAML file -> dotted overrides -> schema validation with defaults -> checks
 * across keys. Every problem names the file and the key's full path; the resolved config (defaults
 * filled, reward file inlined) can be written back as YAML and loads to the same value.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { AlignSamConfig, configSchema, crossCheck, RewardSection } from './alignsam-config';
import { SchemaContext, SchemaIssue, validate } from './schema';

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

/** One dotted override: `agent.ppo.learning_rate=3e-4` (the value is read as YAML). */
export interface Override {
  path: string[];
  value: unknown;
  text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError('--set', [{ path: text, message: "expected key.path=value (e.g. agent.ppo.learning_rate=3e-4)" }]);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const parts = key.split('.');
  if (parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new ConfigError('--set', [{ path: key, message: 'a key path is names joined by dots' }]);
  let value: unknown;
  try {
    value = raw.trim() === '' ? null : yaml.load(raw);
  } catch (err) {
    throw new ConfigError('--set', [{ path: key, message: `cannot read the value ${JSON.stringify(raw)} as YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  return { path: parts, value, text };
}

/** Apply overrides to a raw (unvalidated) config object, creating sections as needed. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly Override[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of overrides) {
    let node: Record<string, unknown> = out;
    for (let i = 0; i < o.path.length - 1; i++) {
      const k = o.path[i];
      const next = node[k];
      if (next === undefined || next === null) node[k] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        throw new ConfigError('--set', [{ path: o.path.slice(0, i + 1).join('.'), message: `is ${JSON.stringify(next)}, not a section, so '${o.text}' cannot be applied` }]);
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
  try {
    return yaml.load(text, { filename: file }) ?? {};
  } catch (err) {
    throw new Error(`${file}: not valid YAML: ${(err as Error).message}`);
  }
}

export interface LoadConfigOptions {
  overrides?: readonly (string | Override)[];
}

/** Validate a raw config object (as parsed from YAML); `source` names it in errors. */
export function resolveConfig(raw: unknown, source: string, options: LoadConfigOptions & { baseDir?: string } = {}): AlignSamConfig {
  const overrides = (options.overrides ?? []).map((o) => (typeof o === 'string' ? parseOverride(o) : o));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '(root)', message: 'expected sections (sam, data, env, ...) at the top level' }]);
  }
  const merged = applyOverrides(raw as Record<string, unknown>, overrides);
  const { value, issues } = validate(configSchema, merged);
  const annotate = (list: SchemaIssue[]): SchemaIssue[] =>
    list.map((i) => {
      const o = [...overrides].reverse().find((ov) => i.path === ov.path.join('.') || i.path.startsWith(`${ov.path.join('.')}.`) || i.path.startsWith(`${ov.path.join('.')}[`));
      return o ? { ...i, message: `${i.message} (from --set ${o.text})` } : i;
    });
  if (issues.length > 0 || !value) throw new ConfigError(source, annotate(issues));
  const config = value;
  if (config.reward.file !== null) inlineRewardFile(config, options.baseDir ?? '.', source);
  if (config.reward.preset === null && config.reward.terms === null) config.reward.preset = 'alignsam';
  const ctx = new SchemaContext();
  crossCheck(config, ctx);
  if (ctx.issues.length > 0) throw new ConfigError(source, annotate(ctx.issues));
  return config;
}

/** Load and validate a reward file ({preset} or {terms}), as configs/rewards/*.yaml. */
export function loadRewardFile(file: string): RewardSection {
  const { value, issues } = validate(configSchema.fields.reward, readYamlFile(file));
  if (issues.length > 0 || !value) throw new ConfigError(file, issues);
  if (value.file !== null) throw new ConfigError(file, [{ path: 'file', message: 'a reward file cannot name another file' }]);
  if ((value.preset === null) === (value.terms === null)) throw new ConfigError(file, [{ path: '(root)', message: 'give exactly one of preset or terms' }]);
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
  return header ? `${header.split('\n').map((l) => `# ${l}`).join('\n')}\n${body}` : body;
}
