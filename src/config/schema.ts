/**
 * A small typed schema language for configs: each node validates a value, fills defaults, and
 * documents itself (for the generated key table). The TypeScript type of a resolved config is
 * inferred from the schema (`Infer<typeof node>`), so the schema and the types cannot drift apart.
 *
 * Validation collects every problem, each naming the key's full path
 * (`agent.ppo.clip_range: expected a number in (0, 1], got "big"`).
 */

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Where validation is: the key path and the list problems go to. */
export class SchemaContext {
  constructor(
    readonly issues: SchemaIssue[] = [],
    readonly path: string = '',
  ) {}

  at(key: string | number): SchemaContext {
    const p = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new SchemaContext(this.issues, p);
  }

  fail(message: string): undefined {
    this.issues.push({ path: this.path || '(root)', message });
    return undefined;
  }
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
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: () => unknown }).toJSON();
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

export interface NodeDoc {
  /** What the key means. */
  doc: string;
  /** The type as the docs show it (e.g. `integer >= 1`, `ppo | dqn`). */
  type: string;
}

export abstract class SchemaNode<T> {
  /** Phantom field carrying the resolved type. */
  declare readonly __type: T;
  doc = '';
  hasDefault = false;
  defaultValue: unknown = undefined;

  /** Validate `value` (undefined when the key is absent); return the resolved value or undefined on failure. */
  abstract check(value: unknown, ctx: SchemaContext): T | undefined;
  /** The type as the docs show it. */
  abstract typeText(): string;

  describe(doc: string): this {
    this.doc = doc;
    return this;
  }

  default(value: T): this {
    this.hasDefault = true;
    this.defaultValue = value;
    return this;
  }

  /** Resolve an absent key: its default, else an error. */
  protected absent(ctx: SchemaContext): T | undefined {
    if (this.hasDefault) return structuredClone(this.defaultValue) as T;
    return ctx.fail(`required (${this.typeText()})`);
  }

  nullable(): NullableNode<T> {
    return new NullableNode(this);
  }
}

export type Infer<N> = N extends SchemaNode<infer T> ? T : never;

export class NullableNode<T> extends SchemaNode<T | null> {
  constructor(readonly inner: SchemaNode<T>) {
    super();
    this.doc = inner.doc;
  }

  check(value: unknown, ctx: SchemaContext): T | null | undefined {
    if (value === undefined) return this.hasDefault ? (structuredClone(this.defaultValue) as T | null) : this.inner.check(value, ctx);
    if (value === null) return null;
    return this.inner.check(value, ctx);
  }

  typeText(): string {
    return `${this.inner.typeText()} | null`;
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclude the bound itself. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
}

export class NumberNode extends SchemaNode<number> {
  constructor(readonly rule: NumberRule = {}) {
    super();
  }

  typeText(): string {
    const r = this.rule;
    const kind = r.integer ? 'an integer' : 'a number';
    if (r.min !== undefined && r.max !== undefined) {
      return `${kind} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
    }
    if (r.min !== undefined) return `${kind} ${r.minExclusive ? '>' : '>='} ${r.min}`;
    if (r.max !== undefined) return `${kind} ${r.maxExclusive ? '<' : '<='} ${r.max}`;
    return kind;
  }

  check(value: unknown, ctx: SchemaContext): number | undefined {
    if (value === undefined) return this.absent(ctx);
    const r = this.rule;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!r.integer || Number.isInteger(value)) &&
      (r.min === undefined || (r.minExclusive ? value > r.min : value >= r.min)) &&
      (r.max === undefined || (r.maxExclusive ? value < r.max : value <= r.max));
    if (!ok) return ctx.fail(`expected ${this.typeText()}, got ${showValue(value)}`);
    return value as number;
  }
}

export class StringNode extends SchemaNode<string> {
  constructor(readonly opts: { nonEmpty?: boolean; pattern?: RegExp; patternText?: string } = {}) {
    super();
  }

  typeText(): string {
    return this.opts.patternText ?? (this.opts.nonEmpty ? 'a non-empty string' : 'a string');
  }

  check(value: unknown, ctx: SchemaContext): string | undefined {
    if (value === undefined) return this.absent(ctx);
    if (typeof value !== 'string' || (this.opts.nonEmpty && value.length === 0) || (this.opts.pattern && !this.opts.pattern.test(value))) {
      return ctx.fail(`expected ${this.typeText()}, got ${showValue(value)}`);
    }
    return value;
  }
}

export class BooleanNode extends SchemaNode<boolean> {
  typeText(): string {
    return 'true | false';
  }

  check(value: unknown, ctx: SchemaContext): boolean | undefined {
    if (value === undefined) return this.absent(ctx);
    if (typeof value !== 'boolean') return ctx.fail(`expected true or false, got ${showValue(value)}`);
    return value;
  }
}

export class EnumNode<V extends string> extends SchemaNode<V> {
  constructor(readonly values: readonly V[]) {
    super();
  }

  typeText(): string {
    return this.values.join(' | ');
  }

  check(value: unknown, ctx: SchemaContext): V | undefined {
    if (value === undefined) return this.absent(ctx);
    if (typeof value !== 'string' || !this.values.includes(value as V)) {
      return ctx.fail(`expected one of ${this.values.join(', ')}, got ${showValue(value)}`);
    }
    return value as V;
  }
}

export class ArrayNode<T> extends SchemaNode<T[]> {
  constructor(
    readonly items: SchemaNode<T>,
    readonly opts: { minItems?: number; maxItems?: number } = {},
  ) {
    super();
  }

  typeText(): string {
    const n = this.opts.minItems !== undefined && this.opts.minItems === this.opts.maxItems ? `${this.opts.minItems} ` : '';
    return `list of ${n}(${this.items.typeText()})`;
  }

  check(value: unknown, ctx: SchemaContext): T[] | undefined {
    if (value === undefined) return this.absent(ctx);
    if (!Array.isArray(value)) return ctx.fail(`expected a list, got ${showValue(value)}`);
    const { minItems, maxItems } = this.opts;
    if (minItems !== undefined && value.length < minItems) return ctx.fail(`expected at least ${minItems} item(s), got ${value.length}`);
    if (maxItems !== undefined && value.length > maxItems) return ctx.fail(`expected at most ${maxItems} item(s), got ${value.length}`);
    const before = ctx.issues.length;
    const out = value.map((v, i) => this.items.check(v === undefined ? null : v, ctx.at(i)));
    return ctx.issues.length === before ? (out as T[]) : undefined;
  }
}

type Fields = Record<string, SchemaNode<unknown>>;
export type InferFields<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export class ObjectNode<F extends Fields> extends SchemaNode<InferFields<F>> {
  constructor(readonly fields: F) {
    super();
    // A section whose keys all have defaults may be left out entirely.
    this.hasDefault = Object.values(fields).every((f) => f.hasDefault);
  }

  typeText(): string {
    return `{${Object.keys(this.fields).join(', ')}}`;
  }

  override default(): never {
    throw new Error('ObjectNode: defaults come from the fields');
  }

  check(value: unknown, ctx: SchemaContext): InferFields<F> | undefined {
    if (value === undefined || value === null) {
      if (value === null || this.hasDefault) value = {};
      else return ctx.fail('required section is missing');
    }
    if (typeof value !== 'object' || Array.isArray(value)) return ctx.fail(`expected a section (key: value pairs), got ${showValue(value)}`);
    const obj = value as Record<string, unknown>;
    const before = ctx.issues.length;
    for (const key of Object.keys(obj)) {
      if (!Object.prototype.hasOwnProperty.call(this.fields, key)) {
        const hint = closestKey(key, Object.keys(this.fields));
        ctx.at(key).fail(`unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known keys: ${Object.keys(this.fields).join(', ')}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, node] of Object.entries(this.fields)) {
      // An empty YAML value (`key:`) is null: it means "the default" unless the key takes null.
      // Own keys only: a key inherited from a prototype is not in the config.
      const given = Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
      const v = given === null && !(node instanceof NullableNode) ? undefined : given;
      out[key] = node.check(v, ctx.at(key));
    }
    return ctx.issues.length === before ? (out as InferFields<F>) : undefined;
  }
}

/** The first option that validates wins; the error lists what each option expected. */
export class UnionNode<T> extends SchemaNode<T> {
  constructor(readonly options: SchemaNode<unknown>[]) {
    super();
  }

  typeText(): string {
    return this.options.map((o) => o.typeText()).join(' or ');
  }

  check(value: unknown, ctx: SchemaContext): T | undefined {
    if (value === undefined) return this.absent(ctx);
    const failed: { option: SchemaNode<unknown>; issues: SchemaIssue[] }[] = [];
    for (const option of this.options) {
      const trial = new SchemaContext([], ctx.path);
      const v = option.check(value, trial);
      if (trial.issues.length === 0) return v as T;
      failed.push({ option, issues: trial.issues });
    }
    // Report against the options of the value's own kind (a section against the section option,
    // a scalar against the scalar ones), so a bad number is not explained in terms of sections.
    const same = failed.filter((f) => kindOf(f.option) === kindOfValue(value));
    if (same.length === 1 && kindOfValue(value) !== 'scalar') {
      for (const i of same[0].issues) ctx.issues.push(i);
      return undefined;
    }
    const shown = same.length > 0 ? same.map((f) => f.option) : this.options;
    return ctx.fail(`expected ${shown.map((o) => o.typeText()).join(' or ')}, got ${showValue(value)}`);
  }
}

function kindOf(node: SchemaNode<unknown>): 'object' | 'array' | 'scalar' | 'any' {
  const inner = node instanceof NullableNode ? node.inner : node;
  if (inner instanceof ObjectNode) return 'object';
  if (inner instanceof ArrayNode) return 'array';
  if (inner instanceof CustomNode || inner instanceof UnionNode) return 'any';
  return 'scalar';
}

function kindOfValue(v: unknown): 'object' | 'array' | 'scalar' {
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return 'scalar';
}

/** A node checked by a function (for values another module validates, e.g. reward terms). */
export class CustomNode<T> extends SchemaNode<T> {
  constructor(
    readonly text: string,
    readonly validate: (value: unknown, ctx: SchemaContext) => T | undefined,
  ) {
    super();
  }

  typeText(): string {
    return this.text;
  }

  check(value: unknown, ctx: SchemaContext): T | undefined {
    if (value === undefined) return this.absent(ctx);
    return this.validate(value, ctx);
  }
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
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** Builders. */
export const s = {
  number: (rule: NumberRule = {}) => new NumberNode(rule),
  integer: (rule: Omit<NumberRule, 'integer'> = {}) => new NumberNode({ ...rule, integer: true }),
  string: (opts: ConstructorParameters<typeof StringNode>[0] = {}) => new StringNode(opts),
  boolean: () => new BooleanNode(),
  enum: <V extends string>(values: readonly V[]) => new EnumNode<V>(values),
  array: <T>(items: SchemaNode<T>, opts: { minItems?: number; maxItems?: number } = {}) => new ArrayNode<T>(items, opts),
  object: <F extends Fields>(fields: F) => new ObjectNode<F>(fields),
  union: <T>(...options: SchemaNode<unknown>[]) => new UnionNode<T>(options),
  custom: <T>(text: string, validate: (value: unknown, ctx: SchemaContext) => T | undefined) => new CustomNode<T>(text, validate),
};

/** Validate and resolve; returns the value and the problems found (empty when valid). */
export function validate<T>(node: SchemaNode<T>, value: unknown, rootPath = ''): { value: T | undefined; issues: SchemaIssue[] } {
  const ctx = new SchemaContext([], rootPath);
  const v = node.check(value, ctx);
  return { value: ctx.issues.length === 0 ? v : undefined, issues: ctx.issues };
}

export interface DocRow {
  path: string;
  type: string;
  default: string;
  doc: string;
}

/** One row per leaf key (sections recurse), for the generated docs. */
export function docRows(node: SchemaNode<unknown>, path = ''): DocRow[] {
  const inner = node instanceof NullableNode ? node.inner : node;
  if (inner instanceof ObjectNode) {
    const rows: DocRow[] = [];
    for (const [k, child] of Object.entries(inner.fields as Fields)) rows.push(...docRows(child, path ? `${path}.${k}` : k));
    return rows;
  }
  return [
    {
      path,
      type: node.typeText(),
      default: node.hasDefault ? showDefault(node.defaultValue) : '(required)',
      doc: node.doc,
    },
  ];
}

function showDefault(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}
