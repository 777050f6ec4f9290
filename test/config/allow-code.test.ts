import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, loadConfig, loadRewardFile } from '../../src/config/load-config';
import { RewardFunction } from '../../src/reward/reward-function';
import { runMain } from '../cli/run-cli';

const ENV = 'ALIGNSAM_ALLOW_CODE';

/** A folder with a config naming a custom reward module that leaves a marker file when loaded. */
function setup(): { dir: string; config: string; marker: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-code-'));
  const marker = path.join(dir, 'loaded.txt');
  fs.writeFileSync(
    path.join(dir, 'term.js'),
    `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = () => 0.5;\n`,
  );
  const config = path.join(dir, 'cfg.yaml');
  fs.writeFileSync(
    config,
    `env:\n  label_source: oracle\nreward:\n  terms:\n    - term: custom\n      module: ${path.join(dir, 'term.js')}\n`,
  );
  return { dir, config, marker };
}

let envBefore: string | undefined;
beforeEach(() => {
  envBefore = process.env[ENV];
  delete process.env[ENV];
});
afterEach(() => {
  if (envBefore === undefined) delete process.env[ENV];
  else process.env[ENV] = envBefore;
});

describe('configs that name code', () => {
  it('are refused by default, naming the module and the opt-in', () => {
    const { dir, config } = setup();
    let err: unknown;
    try {
      loadConfig(config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('reward.terms[0].module');
    expect(msg).toContain(path.join(dir, 'term.js'));
    expect(msg).toContain('--allow-code');
    expect(msg).toContain(`${ENV}=1`);
  });

  it('load with allowCode, or with ALIGNSAM_ALLOW_CODE=1', () => {
    const { config } = setup();
    expect(loadConfig(config, { allowCode: true }).reward.terms![0].term).toBe('custom');
    process.env[ENV] = '1';
    expect(loadConfig(config).reward.terms![0].term).toBe('custom');
    process.env[ENV] = 'yes';
    expect(() => loadConfig(config)).toThrow(/--allow-code/);
  });

  it('a module named in a reward file resolves against that file, not the working directory', () => {
    const { dir } = setup();
    const sub = path.join(dir, 'rewards');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'own.js'), 'module.exports = () => 0.25;\n');
    fs.writeFileSync(path.join(sub, 'r.yaml'), 'terms:\n  - term: custom\n    module: ./own.js\n');
    const config = path.join(dir, 'with-file.yaml');
    fs.writeFileSync(config, 'env:\n  label_source: oracle\nreward:\n  file: rewards/r.yaml\n');
    expect(() => loadConfig(config)).toThrow(/own\.js" \(from reward\.file rewards\/r\.yaml\).*--allow-code/);
    const c = loadConfig(config, { allowCode: true });
    expect(c.reward.terms![0].module).toBe(path.join(sub, 'own.js'));
    expect(loadRewardFile(path.join(sub, 'r.yaml')).terms![0].module).toBe(path.join(sub, 'own.js'));
    // Built the way a run builds it (no base folder: the working directory), it finds the file's module.
    const fn = new RewardFunction(c.reward.terms!, { validate: false });
    expect(fn.terms[0].module).toBe(path.join(sub, 'own.js'));
  });

  it('the CLI refuses without --allow-code and never runs the module', async () => {
    const { config, marker } = setup();
    const r = await runMain(['config', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('term.js');
    expect(r.stderr).toContain('--allow-code');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('the CLI accepts --allow-code, and the switch ends with the command', async () => {
    const { config } = setup();
    const r = await runMain(['config', '-c', config, '--allow-code']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('term: custom');
    expect(process.env[ENV]).toBeUndefined();
  });
});
