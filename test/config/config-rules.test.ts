import { loadConfig, resolveConfig } from '../../src/config/load-config';
import { errorOf, tempWriter } from './helpers';

const writeTemp = tempWriter('alignsam-defaults-');

describe('run.name', () => {
  it.each(['..', '.', 'a/b', 'a\\b', '../up', ''])('run.name %j is refused when the config loads', (name) => {
    const err = errorOf(() => resolveConfig({ env: { label_source: 'oracle' }, run: { name } }, 'x.yaml'));
    expect(err.issues.map((i) => i.path)).toEqual(['run.name']);
    expect(err.message).toMatch(/single folder name|path segment/);
  });

  it('ordinary names with dots inside are kept', () => {
    expect(resolveConfig({ env: { label_source: 'oracle' }, run: { name: 'ppo.v2-run_1' } }, 'x.yaml').run.name).toBe(
      'ppo.v2-run_1',
    );
  });
});

describe('defaults', () => {
  it('an empty config file is valid and its defaults agree with each other', () => {
    const file = writeTemp('empty.yaml', '');
    const c = loadConfig(file);
    expect(c.env.label_source).toBe('recalibration');
    expect(c.srm.enabled).toBe(true);
    expect(resolveConfig({}, 'x.yaml')).toEqual(c);
  });

  it('srm.enabled follows what needs the SRM unless given', () => {
    expect(resolveConfig({ env: { label_source: 'oracle' } }, 'x.yaml').srm.enabled).toBe(false);
    expect(resolveConfig({ env: { label_source: 'agent', initial_prompts: 'labeler' } }, 'x.yaml').srm.enabled).toBe(
      true,
    );
    expect(resolveConfig({ env: { label_source: 'oracle' }, srm: { enabled: true } }, 'x.yaml').srm.enabled).toBe(true);
    const err = errorOf(() => resolveConfig({ srm: { enabled: false } }, 'x.yaml'));
    expect(err.message).toContain("env.label_source: 'recalibration' needs srm.enabled: true");
  });
});

describe('env.horizon and the grid', () => {
  it('a horizon beyond the grid cells fails at load naming both keys', () => {
    const err = errorOf(() =>
      resolveConfig({ env: { label_source: 'oracle', grid_size: 3, horizon: 10 }, eval: { clicks: [1] } }, 'x.yaml'),
    );
    expect(err.issues.map((i) => i.path)).toEqual(['env.horizon']);
    expect(err.message).toContain('env.grid_size');
    expect(err.message).toContain('9');
  });

  it('a horizon of exactly the grid cells is fine without labeler prompts', () => {
    expect(
      resolveConfig({ env: { label_source: 'oracle', grid_size: 3, horizon: 9 }, eval: { clicks: [1] } }, 'x.yaml').env
        .horizon,
    ).toBe(9);
  });

  it('labeler initial prompts take two cells of the grid', () => {
    const err = errorOf(() =>
      resolveConfig({ env: { grid_size: 3, horizon: 8, initial_prompts: 'labeler' }, eval: { clicks: [1] } }, 'x.yaml'),
    );
    expect(err.issues.map((i) => i.path)).toEqual(['env.horizon']);
    expect(err.message).toContain('env.initial_prompts');
    expect(err.message).toContain('at most 7 clicks');
  });
});
