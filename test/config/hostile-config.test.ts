import {
  ConfigError,
  applyOverrides,
  loadConfig,
  loadRewardFile,
  parseOverride,
  resolveConfig,
} from '../../src/config/load-config';
import { configSchema } from '../../src/config/alignsam-config';
import { showValue, validate } from '../../src/schema/schema';
import { errorOf, tempWriter } from './helpers';

const writeTemp = tempWriter('alignsam-hostile-');

/** `levels` nested YAML aliases, each level ten times the one below, under a known key. */
function aliasBomb(levels: number, key = 'data:\n  synthetic:\n    categories'): string {
  const lines = ['a0: &a0 [star, star, star, star, star, star, star, star, star, star]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${new Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  return `x-anchors:\n${lines.map((l) => `  ${l}`).join('\n')}\n${key}: *a${levels}\n`;
}

afterEach(() => {
  // A polluted prototype would leak into every later test: fail loudly and clean up.
  const leaked = ['multi', 'x', 'polluted'].filter((k) => k in Object.prototype);
  for (const k of leaked) delete (Object.prototype as Record<string, unknown>)[k];
  expect(leaked).toEqual([]);
});

describe('prototype keys', () => {
  it.each([
    '__proto__.multi=1',
    'constructor.prototype.x=1',
    'data.__proto__.polluted=1',
    'agent.ppo.prototype=1',
    'data.synthetic.constructor=1',
  ])('--set %s is refused naming the key', (text) => {
    const err = errorOf(() => parseOverride(text));
    expect(err.message).toMatch(/^--set: .*: .*'(__proto__|constructor|prototype)'/);
    expect(err.message).toContain(text.split('=')[0]);
  });

  it('an Override object built by hand cannot reach a prototype either', () => {
    const err = errorOf(() =>
      applyOverrides({}, [{ path: ['__proto__', 'multi'], value: 1, text: '__proto__.multi=1' }]),
    );
    expect(err.message).toContain('__proto__');
    expect(({} as Record<string, unknown>).multi).toBeUndefined();
  });

  it('a config with --set __proto__ changes nothing globally', () => {
    expect(() =>
      resolveConfig({ env: { label_source: 'oracle' } }, 'x.yaml', { overrides: ['__proto__.multi=1'] }),
    ).toThrow(ConfigError);
    expect(({} as Record<string, unknown>).multi).toBeUndefined();
  });

  it.each([
    ['__proto__:\n  multi: 1\n', '__proto__'],
    ['data:\n  synthetic:\n    constructor: 1\n', 'data.synthetic.constructor'],
    [
      'reward:\n  terms:\n    - term: custom\n      module: ./m.js\n      options:\n        prototype: 1\n',
      'reward.terms[0].options.prototype',
    ],
  ])('a YAML file with a prototype key is refused: %j', (text, where) => {
    const file = writeTemp('proto.yaml', text);
    const err = errorOf(() => loadConfig(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain(where);
    expect(err.message).toMatch(/not allowed/);
  });

  it('a reward file with a prototype key is refused', () => {
    const file = writeTemp('reward.yaml', 'terms:\n  - term: label\n    __proto__: {weight: 3}\n');
    const err = errorOf(() => loadRewardFile(file));
    expect(err.message).toContain('terms[0].__proto__');
  });

  it('a resolved config reads only its own keys, never inherited ones', () => {
    (Object.prototype as Record<string, unknown>).horizon = 99;
    try {
      const { value } = validate(configSchema, { env: { label_source: 'oracle' } });
      expect(value!.env.horizon).toBe(15);
    } finally {
      delete (Object.prototype as Record<string, unknown>).horizon;
    }
  });
});

describe('YAML alias bombs and huge values', () => {
  it('a nested alias bomb under a known key is answered quickly and clearly', () => {
    const file = writeTemp('bomb.yaml', aliasBomb(7));
    const t0 = Date.now();
    const err = errorOf(() => loadConfig(file));
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/alias/i);
    expect(err.message.length).toBeLessThan(1000);
  });

  it('a ten-level bomb given through --set is answered quickly', () => {
    const anchors = ['&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    let value = '';
    for (let i = 1; i <= 10; i++) anchors.push(`&a${i} [${new Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    value = `[${anchors.join(', ')}]`;
    const t0 = Date.now();
    const err = errorOf(() => resolveConfig({}, 'x.yaml', { overrides: [`eval.clicks=${value}`] }));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.message).toMatch(/alias/i);
  });

  it('a self-referencing alias is refused, not followed forever', () => {
    const file = writeTemp('cycle.yaml', 'eval:\n  clicks: &c [1, *c]\n');
    const t0 = Date.now();
    const err = errorOf(() => loadConfig(file));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.message).toContain('eval.clicks');
  });

  it('showValue prints at most a short prefix of a huge value, fast', () => {
    let v: unknown = ['star'];
    for (let i = 0; i < 30; i++) v = [v, v];
    const t0 = Date.now();
    const shown = showValue(v);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(shown.length).toBeLessThanOrEqual(60);
    expect(shown.startsWith('[[[[')).toBe(true);
    expect(shown.endsWith('...')).toBe(true);
  });

  it('showValue still prints small values as JSON', () => {
    expect(showValue('big')).toBe('"big"');
    expect(showValue({ a: [1, null, 'x'], b: true })).toBe('{"a":[1,null,"x"],"b":true}');
    expect(showValue([1, undefined])).toBe('[1,null]');
    expect(showValue(undefined)).toBe('nothing');
    expect(showValue(NaN)).toBe('NaN');
    expect(showValue('x'.repeat(100))).toBe(`"${'x'.repeat(56)}...`);
  });
});
