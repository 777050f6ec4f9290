/**
 * The ablation runner: the variants it plans from a config, and resuming after a killed run
 * (finished runs are kept, a run with a checkpoint is resumed, a run without one starts over).
 * The trainer is a stand-in script with the CLI's arguments, so the test checks the orchestration
 * in seconds; the runs themselves are ordinary `alignsam train` runs tested elsewhere.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { resolveConfig } from '../../src/config/load-config';
import { ablationVariants, planAblation, runAblation } from '../../src/runs/ablation';
import { summarizeAblation } from '../../src/runs/ablation-summary';
import {
  paperShape,
  readmeTable,
  replaceReadmeSection,
  resultsPage,
  README_BEGIN,
  README_END,
} from '../../src/report/results-page';

const config = () =>
  resolveConfig({ env: { horizon: 15, grid_size: 16 }, train: { total_timesteps: 100 } }, 'test.yaml');

/** A stand-in for `alignsam train`: writes a checkpoint, then (unless told to die) eval.json. */
const FAKE_TRAINER = `
const fs = require('fs'), path = require('path'), yaml = require(${JSON.stringify(require.resolve('js-yaml'))});
const args = process.argv.slice(2);
const resume = args.indexOf('--resume');
let dir, cfg;
if (resume >= 0) { dir = args[resume + 1]; cfg = yaml.load(fs.readFileSync(path.join(dir, 'config.yaml'), 'utf8')); }
else { cfg = yaml.load(fs.readFileSync(args[args.indexOf('--config') + 1], 'utf8')); dir = path.join(cfg.run.dir, cfg.run.name); fs.mkdirSync(dir, { recursive: true }); fs.writeFileSync(path.join(dir, 'config.yaml'), yaml.dump(cfg)); }
fs.appendFileSync(path.join(__dirname, 'calls.txt'), (resume >= 0 ? 'resume ' : 'new ') + path.basename(dir) + '\\n');
fs.mkdirSync(path.join(dir, 'checkpoints', 'model_50_steps'), { recursive: true });
const die = path.join(__dirname, 'die.txt');
if (fs.existsSync(die) && fs.readFileSync(die, 'utf8') === path.basename(dir)) process.exit(137);
const T = cfg.env.horizon, seed = cfg.train.seed;
const curve = Array.from({ length: T }, (_, k) => 0.5 + 0.01 * k + 0.001 * seed + (cfg.env.label_source === 'agent' ? -0.2 : 0));
const row = (policy, shift) => ({ policy, description: policy, mean: { 'iou@1': curve[0] + shift, final_iou: curve[T - 1] + shift, label_accuracy: 0.9, return: 1 }, mean_iou_curve: curve.map((v) => v + shift) });
const policies = [row('agent', 0), ...cfg.eval.baselines.map((b, i) => row(b, -0.05 * (i + 1)))];
fs.writeFileSync(path.join(dir, 'eval.json'), JSON.stringify({ protocol: 'deployed', episodes: cfg.eval.episodes, policies }));
process.stdout.write('backend: fake\\n');
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-'));
});
afterEach(() => {
  if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
});

it('plans full, w/o SRM and the shorter horizons, each seed a run with its own config', () => {
  const v = ablationVariants(config());
  expect(v.map((x) => x.name)).toEqual(['full', 'no-srm', 'T1', 'T5', 'T10']);
  const runs = planAblation({ config: config(), configFile: 'test.yaml', out: dir, seeds: 2 });
  expect(runs).toHaveLength(10);
  const noSrm = yaml.load(fs.readFileSync(path.join(dir, 'configs', 'no-srm-seed1.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  expect(noSrm.env.label_source).toBe('agent');
  expect((noSrm.srm as { enabled: boolean }).enabled).toBe(false);
  expect(noSrm.train.seed).toBe(1);
  const t1 = yaml.load(fs.readFileSync(path.join(dir, 'configs', 'T1-seed0.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  expect(t1.env.horizon).toBe(1);
  expect(t1.eval.clicks).toEqual([1]);
});

it('resumes after a killed run: finished runs are kept, the killed one continues from its checkpoint', async () => {
  const calls = path.join(dir, 'calls.txt');
  const script = path.join(dir, 'fake-train.js');
  fs.writeFileSync(script, FAKE_TRAINER);
  const out = path.join(dir, 'abl');
  const opts = {
    config: config(),
    configFile: 'test.yaml',
    out,
    seeds: 2,
    jobs: 1,
    trainCommand: [process.execPath, script],
    log: () => undefined,
  };
  fs.writeFileSync(path.join(dir, 'die.txt'), 'T5-seed0');
  {
    await expect(runAblation(opts)).rejects.toThrow(/T5-seed0.*137/);
    const first = fs.readFileSync(calls, 'utf8').trim().split('\n');
    expect(first).toEqual([
      'new full-seed0',
      'new full-seed1',
      'new no-srm-seed0',
      'new no-srm-seed1',
      'new T1-seed0',
      'new T1-seed1',
      'new T5-seed0',
    ]);
    fs.rmSync(path.join(dir, 'die.txt'));
    fs.writeFileSync(calls, '');
    const runs = await runAblation(opts);
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual([
      'resume T5-seed0',
      'new T5-seed1',
      'new T10-seed0',
      'new T10-seed1',
    ]);
    fs.writeFileSync(calls, '');
    await runAblation(opts);
    expect(fs.readFileSync(calls, 'utf8')).toBe('');

    const s = summarizeAblation(runs, { config: 'test.yaml', out, commandWallSeconds: 1, jobs: 1, wallSeconds: {} });
    expect(s.protocol).toBe('deployed');
    expect(s.backend).toBe('fake');
    const full = s.rows.find((r) => r.name === 'full')!;
    expect(full.perSeed.final_iou).toEqual([0.5 + 0.14, 0.5 + 0.14 + 0.001].map((v) => expect.closeTo(v, 9)));
    expect(full.mean.final_iou).toBeCloseTo(0.6405, 9);
    expect(full.sd.final_iou).toBeCloseTo(Math.SQRT1_2 * 0.001, 9);
    expect(s.rows.map((r) => r.name)).toEqual([
      'full',
      'w/o RL',
      'w/o SRM',
      'T = 1',
      'T = 5',
      'T = 10',
      'centre',
      'oracle + SRM labels',
      'ceiling',
      'random + true labels',
      'SRM map',
    ]);
    const shape = Object.fromEntries(paperShape(s).map((c) => [c.claim, c.holds]));
    expect(Object.values(shape)).toEqual([true, true, true, true]);
    const page = resultsPage(s, { source: 'x.json' });
    expect(page).toContain('**Protocol: deployed.**');
    expect(page).toContain('0.641 ± 0.001');
    // The page records every setting the full runs trained with, not only the config's path.
    const fullConfig = fs.readFileSync(runs.find((r) => r.variant === 'full' && r.seed === 0)!.configFile, 'utf8');
    expect(s.runConfig).toBe(fullConfig);
    expect(page).toContain(`\`\`\`yaml\n${fullConfig.replace(/^#.*\n/gm, '').trimEnd()}\n\`\`\``);
    expect(page).toMatch(/learning_rate: /);
    expect(page).toContain('**random + true labels** is random cells with ground-truth labels');
    const readme = `# x\n${README_BEGIN}\nold\n${README_END}\ntail\n`;
    expect(replaceReadmeSection(readme, s)).toBe(`# x\n${readmeTable(s)}\ntail\n`);
  }
}, 60_000);

it('trains only the variants asked for, and refuses an unknown one before writing anything', () => {
  const runs = planAblation({
    config: config(),
    configFile: 'test.yaml',
    out: dir,
    seeds: 2,
    variants: ['T1', 'full'],
  });
  expect(runs.map((r) => path.basename(r.dir))).toEqual(['full-seed0', 'full-seed1', 'T1-seed0', 'T1-seed1']);
  const out = path.join(dir, 'none');
  expect(() =>
    planAblation({ config: config(), configFile: 'test.yaml', out, seeds: 1, variants: ['full', 'T3'] }),
  ).toThrow('--variants: no variant T3 (this config has full, no-srm, T1, T5, T10)');
  expect(fs.existsSync(out)).toBe(false);
});

it('summarises a named task per target name and shows the worst name on the page', () => {
  const out = path.join(dir, 'named');
  const runs = planAblation({ config: config(), configFile: 'named.yaml', out, seeds: 2, variants: ['full'] });
  runs.forEach((run, seed) => {
    const byName = (star: number, circle: number) => ({
      circle: { episodes: 40, mean: { final_iou: circle } },
      star: { episodes: 60, mean: { final_iou: star } },
    });
    const row = (policy: string, star: number, circle: number) => ({
      policy,
      description: policy,
      mean: { final_iou: (0.6 * star + 0.4 * circle) as number, 'iou@1': 0.5 },
      mean_by_target: byName(star, circle),
      mean_iou_curve: [0.5, 0.6],
    });
    fs.mkdirSync(run.dir, { recursive: true });
    fs.writeFileSync(
      path.join(run.dir, 'eval.json'),
      JSON.stringify({
        protocol: 'deployed',
        episodes: 100,
        policies: [row('agent', 0.7 + 0.1 * seed, 0.6), row('oracle-gt', 0.9, 0.8)],
      }),
    );
  });
  const s = summarizeAblation(runs, { config: 'named.yaml', out, commandWallSeconds: 1, jobs: 1, wallSeconds: {} });
  const full = s.rows.find((r) => r.name === 'full')!;
  expect(full.byTarget!.star.perSeed).toEqual([expect.closeTo(0.7, 12), expect.closeTo(0.8, 12)]);
  expect(full.byTarget!.star.mean).toBeCloseTo(0.75, 12);
  expect(full.byTarget!.star.sd).toBeCloseTo(Math.SQRT1_2 * 0.1, 12);
  expect(full.byTarget!.circle).toEqual({ episodes: [40, 40], perSeed: [0.6, 0.6], mean: 0.6, sd: 0 });
  const page = resultsPage(s, { source: 'x.json' });
  expect(page).toContain('--seeds 2 --variants full`');
  expect(page).toContain('one of "circle", "star"');
  expect(page).toContain('| row | "circle" | "star" | worst name |');
  expect(page).toContain('| full | 0.600 ± 0.000 | 0.750 ± 0.071 | 0.600 |');
  expect(page).toContain('| ceiling | 0.800 ± 0.000 | 0.900 ± 0.000 | 0.800 |');
  // The legend explains the rows the table has, and only those.
  expect(page).toContain(
    'Rows: **full** is the trained agent with the SRM; **ceiling** is that oracle with ground-truth\nlabels (what this SAM reaches on this grid).',
  );
  expect(page).not.toMatch(/\*\*(w\/o RL|w\/o SRM|T = k)\*\*/);
});
