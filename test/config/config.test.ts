import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { configSchema } from '../../src/config/alignsam-config';
import { withGeneratedDocs } from '../../src/config/docs';
import {
  ConfigError,
  dumpConfig,
  loadConfig,
  loadRewardFile,
  parseOverride,
  resolveConfig,
} from '../../src/config/load-config';
import { docRows } from '../../src/schema/schema';
import { errorOf, tempWriter } from './helpers';

const CONFIGS = path.resolve(__dirname, '../../configs');

const writeTemp = tempWriter('alignsam-config-');

describe('config validation', () => {
  it('names the file and the full key path for a wrong type, with the expected range', () => {
    const file = writeTemp('bad.yaml', 'agent:\n  ppo:\n    clip_range: big\n');
    const err = errorOf(() => loadConfig(file));
    expect(err.message).toBe(`${file}: agent.ppo.clip_range: expected a number in (0, 1], got "big"`);
  });

  it('reports an unknown key with its path and a suggestion', () => {
    const err = errorOf(() => resolveConfig({ env: { horizn: 10 } }, 'x.yaml'));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].path).toBe('env.horizn');
    expect(err.message).toContain("x.yaml: env.horizn: unknown key (did you mean 'horizon'?)");
  });

  it('reports an out-of-range value and every problem at once', () => {
    const err = errorOf(() =>
      resolveConfig(
        { env: { grid_size: 0, num_envs: 2.5 }, train: { seed: -1 }, data: { synthetic: { targets: ['blob'] } } },
        'x.yaml',
      ),
    );
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['data.synthetic.targets[0]', 'env.grid_size', 'env.num_envs', 'train.seed']);
    expect(err.issues.find((i) => i.path === 'env.grid_size')!.message).toBe('expected an integer in [1, 64], got 0');
    expect(err.issues.find((i) => i.path === 'data.synthetic.targets[0]')!.message).toMatch(
      /^expected one of star, circle.*got "blob"$/,
    );
  });

  it('checks sections of a union (a linear schedule) key by key', () => {
    const err = errorOf(() =>
      resolveConfig({ agent: { ppo: { learning_rate: { type: 'linear', start: 'x' } } } }, 'x.yaml'),
    );
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      'agent.ppo.learning_rate.end',
      'agent.ppo.learning_rate.start',
    ]);
  });

  it('fills defaults and accepts a linear schedule', () => {
    const c = resolveConfig(
      { env: { label_source: 'oracle' }, agent: { ppo: { learning_rate: { type: 'linear', start: 3e-4, end: 0 } } } },
      'x.yaml',
    );
    expect(c.env.grid_size).toBe(10);
    expect(c.env.horizon).toBe(15);
    expect(c.agent.ppo.learning_rate).toEqual({ type: 'linear', start: 3e-4, end: 0 });
    expect(c.reward.preset).toBe('alignsam');
    expect(c.sam.checkpoint).toBe('micro');
  });

  it('checks rules across keys', () => {
    expect(errorOf(() => resolveConfig({ srm: { enabled: false } }, 'x.yaml')).message).toContain(
      "env.label_source: 'recalibration' needs srm.enabled: true",
    );
    const coco = errorOf(() => resolveConfig({ env: { label_source: 'oracle' }, data: { type: 'coco' } }, 'x.yaml'));
    expect(coco.issues.map((i) => i.path)).toEqual(['data.coco.annotation_file']);
    const batch = errorOf(() =>
      resolveConfig(
        { env: { label_source: 'oracle', num_envs: 2 }, agent: { ppo: { n_steps: 8, batch_size: 64 } } },
        'x.yaml',
      ),
    );
    expect(batch.issues.map((i) => i.path)).toEqual(['agent.ppo.batch_size']);
    const async = errorOf(() =>
      resolveConfig({ env: { label_source: 'oracle', vector: 'async', embedding_cache: { dir: null } } }, 'x.yaml'),
    );
    expect(async.issues.map((i) => i.path)).toEqual(['env.embedding_cache.dir']);
  });

  it('validates reward terms through src/reward, naming the term', () => {
    const err = errorOf(() =>
      resolveConfig(
        { env: { label_source: 'oracle' }, reward: { terms: [{ term: 'label' }, { term: 'iou_gian' }] } },
        'x.yaml',
      ),
    );
    expect(err.issues[0].path).toBe('reward.terms[1]');
    expect(err.issues[0].message).toContain("unknown reward term 'iou_gian'");
  });
});

describe('overrides', () => {
  it('parses dotted keys with YAML values', () => {
    expect(parseOverride('agent.ppo.learning_rate=3e-4')).toMatchObject({
      path: ['agent', 'ppo', 'learning_rate'],
      value: 3e-4,
    });
    expect(parseOverride('eval.clicks=[1, 2]').value).toEqual([1, 2]);
    expect(parseOverride('run.name=').value).toBeNull();
    expect(() => parseOverride('no-equals')).toThrow(ConfigError);
  });

  it('applies overrides over the file and names them in errors', () => {
    const c = resolveConfig({ env: { label_source: 'oracle' } }, 'x.yaml', {
      overrides: ['agent.ppo.learning_rate=1e-4', 'env.num_envs=2'],
    });
    expect(c.agent.ppo.learning_rate).toBe(1e-4);
    expect(c.env.num_envs).toBe(2);
    const err = errorOf(() =>
      resolveConfig({ env: { label_source: 'oracle' } }, 'x.yaml', { overrides: ['agent.ppo.clip_range=big'] }),
    );
    expect(err.message).toBe(
      'x.yaml: agent.ppo.clip_range: expected a number in (0, 1], got "big" (from --set agent.ppo.clip_range=big)',
    );
  });
});

describe('shipped configs', () => {
  const files = fs.readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));
  const rewardFiles = fs.readdirSync(path.join(CONFIGS, 'rewards')).filter((f) => f.endsWith('.yaml'));

  it('has the configs the product promises', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'synthetic-ppo.yaml',
        'synthetic-dqn.yaml',
        'alignsam-paper.yaml',
        'coco-ppo.yaml',
        'folder-implicit-ppo.yaml',
      ]),
    );
    expect(rewardFiles.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s is valid and round-trips through its resolved YAML', (f) => {
    const c = loadConfig(path.join(CONFIGS, f));
    const again = resolveConfig(yaml.load(dumpConfig(c, 'resolved')), 'dump');
    expect(again).toEqual(c);
  });

  it.each(rewardFiles)('rewards/%s is a valid reward', (f) => {
    const r = loadRewardFile(path.join(CONFIGS, 'rewards', f));
    expect(r.terms ?? r.preset).toBeTruthy();
  });

  it('the paper config holds the paper settings', () => {
    const c = loadConfig(path.join(CONFIGS, 'alignsam-paper.yaml'));
    expect([c.env.grid_size, c.env.horizon]).toEqual([10, 15]);
    expect(c.agent.ppo).toMatchObject({
      learning_rate: 1e-4,
      gamma: 0.99,
      clip_range: 0.2,
      n_epochs: 20,
      gae_lambda: 1,
    });
    expect(c.reward.preset).toBe('alignsam');
    expect(c.srm).toMatchObject({ enabled: true, q: 1 });
  });

  it('inlines a reward file relative to the config', () => {
    const c = loadConfig(path.join(CONFIGS, 'coco-ppo.yaml'));
    expect(c.reward).toEqual({ preset: null, terms: [{ term: 'label', weight: 1 }], file: null });
  });

  it('configs/README.md documents every key and is current', () => {
    const readme = fs.readFileSync(path.join(CONFIGS, 'README.md'), 'utf8');
    expect(withGeneratedDocs(readme)).toBe(readme);
    for (const row of docRows(configSchema)) {
      expect(row.doc.length).toBeGreaterThan(5);
      expect(readme).toContain(`\`${row.path}\``);
    }
  });
});
