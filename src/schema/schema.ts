/**
 * The vocabulary of option schemas, on zod: each builder returns a zod schema whose errors read
 * `expected <what>, got <value>` and whose wording of <what> is also what the generated docs show.
 * A schema gives the TypeScript type (`z.infer`), the defaults (`.default()`), the ranges and the
 * description (`.describe()`) of every option; configs, library options and docs all read it.
 *
 * Validation collects every problem, each naming the key's full path
 * (`agent.ppo.clip_range: expected a number in (0, 1], got "big"`).
 */
import { z } from 'zod';

export interface SchemaIssue {
  path: string;
  message: string;
}

/** A value as a config error shows it: strings quoted, objects as JSON, short. */
export function showValue(v: unknown, maxLength = 60): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return String(v);
  const s = jsonPrefix(v, maxLength + 1);
  return s.length > maxLength ? `${s.slice(0, maxLength - 3)}...` : s;
}

/**
 * JSON.stringify cut off after `limit` characters. The cut is made while writing, so a value that
 * is huge once expanded (YAML aliases share one object many times) or cyclic costs only `limit`.
 */
function jsonPrefix(value: unknown, limit: number): string {
  let out = '';
  const full = {};
  const put = (text: string): void => {
    out += text;
    if (out.length >= limit) throw full;
  };
  const write = (v: unknown, inArray: boolean): void => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
      v = (v as { toJSON: () => unknown }).toJSON();
    if (v === null) return put('null');
    switch (typeof v) {
      case 'string':
        return put(JSON.stringify(v.length > limit ? v.slice(0, limit) : v));
      case 'number':
        return put(Number.isFinite(v) ? String(v) : 'null');
      case 'boolean':
        return put(String(v));
      case 'bigint':
        return put(String(v));
      case 'object':
        break;
      default:
        return put(inArray ? 'null' : '');
    }
    if (Array.isArray(v)) {
      put('[');
      v.forEach((x, i) => {
        if (i > 0) put(',');
        write(x, true);
      });
      return put(']');
    }
    put('{');
    let first = true;
    for (const k of Object.keys(v as object)) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
      put(`${first ? '' : ','}${JSON.stringify(k)}:`);
      first = false;
      write(x, false);
    }
    put('}');
  };
  try {
    write(value, false);
  } catch (e) {
    if (e !== full) throw e;
  }
  return out;
}

/** How the docs and the errors word each schema's type (zod's own registries follow clones, so `.describe()` keeps it). */
const typeTexts = z.registry<{ typeText: string }>();

function worded<T extends z.ZodType>(schema: T, typeText: string): T {
  typeTexts.add(schema, { typeText });
  return schema;
}

/** The error of a value outside `typeText`; an absent key is "required". */
const expected =
  (typeText: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `required (${typeText})` : `expected ${typeText}, got ${showValue(issue.input)}`;

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclude the bound itself. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
}

function numberText(r: NumberRule): string {
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.min !== undefined && r.max !== undefined)
    return `${kind} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  if (r.min !== undefined) return `${kind} ${r.minExclusive ? '>' : '>='} ${r.min}`;
  if (r.max !== undefined) return `${kind} ${r.maxExclusive ? '<' : '<='} ${r.max}`;
  return kind;
}

/** A finite number (zod refuses NaN and infinities) within `rule`. */
function number(rule: NumberRule = {}): z.ZodNumber {
  const text = numberText(rule);
  const error = expected(text);
  let n = z.number({ error });
  if (rule.integer) n = n.int({ error });
  if (rule.min !== undefined) n = rule.minExclusive ? n.gt(rule.min, { error }) : n.gte(rule.min, { error });
  if (rule.max !== undefined) n = rule.maxExclusive ? n.lt(rule.max, { error }) : n.lte(rule.max, { error });
  return worded(n, text);
}

function string(opts: { nonEmpty?: boolean; pattern?: RegExp; patternText?: string } = {}): z.ZodString {
  const text = opts.patternText ?? (opts.nonEmpty ? 'a non-empty string' : 'a string');
  const error = expected(text);
  let s = z.string({ error });
  if (opts.nonEmpty) s = s.min(1, { error });
  if (opts.pattern) s = s.regex(opts.pattern, { error });
  return worded(s, text);
}

function boolean(): z.ZodBoolean {
  return worded(
    z.boolean({
      error: (i) =>
        i.input === undefined ? 'required (true | false)' : `expected true or false, got ${showValue(i.input)}`,
    }),
    'true | false',
  );
}

function oneOf<const V extends readonly [string, ...string[]] | readonly string[]>(values: V) {
  const text = values.join(' | ');
  const error = (i: { input?: unknown }): string =>
    i.input === undefined ? `required (${text})` : `expected one of ${values.join(', ')}, got ${showValue(i.input)}`;
  return worded(z.enum(values as unknown as readonly [V[number], ...V[number][]], { error }), text);
}

/** One of a few exact values (numbers too: an enum is only of strings). */
function literal<const V extends readonly [string | number | boolean, ...(string | number | boolean)[]]>(...values: V) {
  const text = values.map((v) => JSON.stringify(v)).join(' | ');
  const error = (i: { input?: unknown }): string =>
    i.input === undefined ? `required (${text})` : `expected one of ${values.join(', ')}, got ${showValue(i.input)}`;
  return worded(z.literal(values as unknown as V[number][], { error }), text);
}

function array<T extends z.ZodType>(items: T, opts: { minItems?: number; maxItems?: number } = {}) {
  const { minItems, maxItems } = opts;
  const count = minItems !== undefined && minItems === maxItems ? `${minItems} ` : '';
  const text = `list of ${count}(${typeTextOf(items)})`;
  let a = z.array(items, {
    error: (i) => (i.input === undefined ? `required (${text})` : `expected a list, got ${showValue(i.input)}`),
  });
  if (minItems !== undefined)
    a = a.min(minItems, {
      error: (i) => `expected at least ${minItems} item(s), got ${(i.input as unknown[]).length}`,
    });
  if (maxItems !== undefined)
    a = a.max(maxItems, { error: (i) => `expected at most ${maxItems} item(s), got ${(i.input as unknown[]).length}` });
  return worded(a, text);
}

/**
 * A value another module checks: `check` calls `fail` for each problem (at `path` inside the value,
 * or at the value itself).
 */
function custom<T>(
  typeText: string,
  check: (value: unknown, fail: (message: string, path?: (string | number)[]) => void) => void,
) {
  const checked = z.custom<T>().superRefine((value, ctx) => {
    const fail = (message: string, path: (string | number)[] = []): void =>
      ctx.addIssue({ code: 'custom', message, path, input: value });
    if (value === undefined) fail(`required (${typeText})`);
    else check(value, fail);
  });
  return worded(checked, typeText);
}

type Shape = Record<string, z.ZodType>;

/**
 * A section of key: value pairs. What it adds to zod's object: every unknown key is its own
 * problem, with a suggestion; only own keys are read (a key inherited from a prototype is not in
 * the config); an empty YAML value (`key:`, null) means the default unless the key takes null; and
 * an absent or empty section is all defaults.
 */
export type Section<S extends Shape> = z.ZodPipe<z.ZodTransform<unknown, unknown>, z.ZodObject<S, z.core.$strip>>;

function section<S extends Shape>(shape: S): Section<S> {
  const keys = Object.keys(shape);
  const takesNull = new Set(keys.filter((k) => shape[k].safeParse(null).success));
  const object = z
    .looseObject(shape, { error: (i) => `expected a section (key: value pairs), got ${showValue(i.input)}` })
    .superRefine(
      (value, ctx) => {
        for (const key of Object.keys(value)) {
          if (Object.prototype.hasOwnProperty.call(shape, key)) continue;
          const hint = closestKey(key, keys);
          ctx.addIssue({
            code: 'custom',
            path: [key],
            input: value[key],
            message: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known keys: ${keys.join(', ')}`,
          });
        }
      },
      // Report unknown keys beside the problems of the known ones.
      { when: () => true },
    );
  const ownKeys = (raw: unknown): unknown => {
    if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) return raw;
    // Without a prototype, nothing inherited can be read as a key.
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(raw ?? {})) {
      const v = (raw as Record<string, unknown>)[key];
      if (v === null && Object.prototype.hasOwnProperty.call(shape, key) && !takesNull.has(key)) continue;
      out[key] = v;
    }
    return out;
  };
  // The runtime object is loose only so that unknown keys reach the check above; a value with one never validates.
  return worded(
    z.preprocess(ownKeys, object as unknown as z.ZodObject<S, z.core.$strip>),
    `{${keys.join(', ')}}`,
  ) as unknown as Section<S>;
}

/** The first option that validates wins; a value's problems are told against the options of its own kind. */
function union<const T extends readonly [z.ZodType, z.ZodType, ...z.ZodType[]]>(...options: T) {
  const text = options.map(typeTextOf).join(' or ');
  const error = (i: { input?: unknown }): string => {
    if (i.input === undefined) return `required (${text})`;
    const same = options.filter((o) => [kindOfValue(i.input), 'any'].includes(kindOf(o)));
    return `expected ${(same.length > 0 ? same : options).map(typeTextOf).join(' or ')}, got ${showValue(i.input)}`;
  };
  return worded(z.union(options, { error }), text);
}

/** Builders. */
export const s = {
  number: (rule: NumberRule = {}) => number(rule),
  integer: (rule: Omit<NumberRule, 'integer'> = {}) => number({ ...rule, integer: true }),
  string,
  boolean,
  enum: oneOf,
  literal,
  array,
  object: section,
  union,
  custom,
};

/** The schema below defaults, nullability and sections' key handling. */
function unwrap(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodNullable || schema instanceof z.ZodOptional)
    return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return unwrap(schema.out as z.ZodType);
  return schema;
}

/** The fields of a section schema (built by s.object), or null for any other schema. */
export function sectionShape(schema: z.ZodType): Shape | null {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? (inner.shape as Shape) : null;
}

/** The type as the docs and errors word it (e.g. `an integer >= 1`, `ppo | dqn`, `... | null`). */
export function typeTextOf(schema: z.ZodType): string {
  const own = typeTexts.get(schema)?.typeText;
  if (own !== undefined) return own;
  if (schema instanceof z.ZodNullable) return `${typeTextOf(schema.unwrap() as z.ZodType)} | null`;
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional)
    return typeTextOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return typeTextOf(schema.out as z.ZodType);
  throw new Error(
    `schema of type '${schema.def.type}' has no wording for the docs; build it with the config schema builders`,
  );
}

function kindOf(schema: z.ZodType): 'object' | 'array' | 'scalar' | 'any' {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return 'object';
  if (inner instanceof z.ZodArray) return 'array';
  if (inner instanceof z.ZodCustom || inner instanceof z.ZodUnion) return 'any';
  return 'scalar';
}

function kindOfValue(v: unknown): 'object' | 'array' | 'scalar' {
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return 'scalar';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function closestKey(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best !== null && bestD <= Math.max(2, Math.floor(key.length / 3))) return best;
  // A key a word short of a known one (`multimask` for `multimask_output`) is far in edits but plain to a reader.
  const words = (k: string): string => `_${k.toLowerCase()}_`;
  const longer = known.filter((k) => k.length > key.length && words(k).includes(words(key)));
  return longer.length === 1 ? longer[0] : null;
}

/** `agent.ppo.clip_range`, `eval.clicks[2]`. */
export function joinPath(base: string, segments: readonly PropertyKey[]): string {
  let p = base;
  for (const k of segments) p = typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k);
  return p;
}

/**
 * zod's issues as path: message pairs. A union that failed on a section (or list) of its one
 * section (list) option reports that option's problems key by key; an issue repeated at one path
 * (a value breaking two bounds) is reported once.
 */
function issuesOf(issues: readonly z.core.$ZodIssue[], base: string, out: SchemaIssue[] = []): SchemaIssue[] {
  for (const issue of issues) {
    const at = joinPath(base, issue.path);
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // An option whose problems all lie inside the value is the one whose kind matched.
      const matched = issue.errors.filter((list) => list.length > 0 && list.every((i) => i.path.length > 0));
      if (matched.length === 1) {
        issuesOf(matched[0], at, out);
        continue;
      }
    }
    const path = at || '(root)';
    if (!out.some((o) => o.path === path && o.message === issue.message)) out.push({ path, message: issue.message });
  }
  return out;
}

/** Where a check across keys is: the key path and the list problems go to. */
export class SchemaContext {
  constructor(
    readonly issues: SchemaIssue[] = [],
    readonly path: string = '',
  ) {}

  at(key: string | number): SchemaContext {
    return new SchemaContext(this.issues, joinPath(this.path, [key]));
  }

  fail(message: string): undefined {
    this.issues.push({ path: this.path || '(root)', message });
    return undefined;
  }
}

/** Validate and resolve; returns the value and the problems found (empty when valid). */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  rootPath = '',
): { value: z.infer<T> | undefined; issues: SchemaIssue[] } {
  const r = schema.safeParse(value);
  if (r.success) return { value: r.data, issues: [] };
  return { value: undefined, issues: issuesOf(r.error.issues, rootPath) };
}

/**
 * Validate options given in code: the resolved options, or an Error naming each bad option as
 * `<owner> option '<key>'`.
 */
export function parseOptions<T extends z.ZodType>(owner: string, schema: T, value: unknown): z.infer<T> {
  const { value: parsed, issues } = validate(schema, value);
  if (issues.length === 0) return parsed as z.infer<T>;
  const named = (i: SchemaIssue): string => {
    const cut = i.path.search(/[.[]/);
    if (cut < 0) return `${owner} option '${i.path}': ${i.message}`;
    return `${owner} option '${i.path.slice(0, cut)}' at ${i.path.slice(cut).replace(/^\./, '')}: ${i.message}`;
  };
  throw new Error(issues.map(named).join('\n'));
}

export interface DocRow {
  path: string;
  type: string;
  default: string;
  doc: string;
}

function descriptionOf(schema: z.ZodType): string {
  if (schema.description) return schema.description;
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodNullable || schema instanceof z.ZodOptional)
    return descriptionOf(schema.unwrap() as z.ZodType);
  return '';
}

/** One row per leaf key (sections recurse), for the generated docs. */
export function docRows(schema: z.ZodType, path = ''): DocRow[] {
  const shape = sectionShape(schema);
  if (shape) return Object.entries(shape).flatMap(([k, child]) => docRows(child, path ? `${path}.${k}` : k));
  const absent = schema.safeParse(undefined);
  return [
    {
      path,
      type: typeTextOf(schema),
      default: absent.success ? showDefault(absent.data) : '(required)',
      doc: descriptionOf(schema),
    },
  ];
}

function showDefault(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}
