import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig, resolveConfig } from '../../src/config/load-config';
import { openRunDir, runPaths } from '../../src/runs/run-dir';
import { errorOf, tempWriter } from './helpers';

const writeTemp = tempWriter('alignsam-renamed-');

describe('renamed config keys', () => {
  it('reads env.multimask as env.multimask_output, with one warning naming the file and the new key', () => {
    for (const value of [false, true, 'single-point']) {
      const warnings: string[] = [];
      const raw = { env: { multimask: value, grid_size: 7 } };
      const c = resolveConfig(raw, 'old.yaml', { onWarning: (m) => warnings.push(m) });
      expect(c.env.multimask_output).toBe(value);
      expect(c.env).not.toHaveProperty('multimask');
      expect(c.env.grid_size).toBe(7);
      expect(warnings).toEqual([
        'old.yaml: env.multimask is read as env.multimask_output, its name now; rename the key in the file',
      ]);
      expect(raw).toEqual({ env: { multimask: value, grid_size: 7 } });
    }
  });

  it('warns about nothing for a config with the current key', () => {
    const warnings: string[] = [];
    const c = resolveConfig({ env: { multimask_output: false } }, 'new.yaml', { onWarning: (m) => warnings.push(m) });
    expect(c.env.multimask_output).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('refuses a config with both keys, naming the file and both keys', () => {
    const file = writeTemp('config.yaml', 'env:\n  multimask: false\n  multimask_output: true\n');
    const err = errorOf(() => loadConfig(file, { onWarning: () => undefined }));
    expect(err.message).toBe(
      `${file}: env.multimask: and env.multimask_output are the same setting (env.multimask is its old name); keep only env.multimask_output`,
    );
  });

  it('an override of the new key applies over the old key of the file', () => {
    const c = resolveConfig({ env: { multimask: true } }, 'old.yaml', {
      overrides: ['env.multimask_output=false'],
      onWarning: () => undefined,
    });
    expect(c.env.multimask_output).toBe(false);
  });

  it('opens a run folder whose saved config has the old key', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-renamed-run-'));
    const paths = runPaths(root);
    fs.mkdirSync(path.dirname(paths.config), { recursive: true });
    fs.writeFileSync(paths.config, 'env:\n  grid_size: 8\n  multimask: false\n');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { config } = openRunDir(root);
      expect(config.env.multimask_output).toBe(false);
      expect(config.env.grid_size).toBe(8);
      expect(warn.mock.calls).toEqual([
        [`${paths.config}: env.multimask is read as env.multimask_output, its name now; rename the key in the file`],
      ]);
    } finally {
      warn.mockRestore();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
