import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { COMMANDS, createCli } from '../../src/cli/main';
import { benchScripts } from '../../src/cli/commands/bench';
import { parseShard, shardRange } from '../../src/cli/shard';
import { runMain } from './run-cli';

const ROOT = path.resolve(__dirname, '../..');
const NAMES = ['train', 'eval', 'ablate', 'results', 'embed', 'export', 'predict', 'bench', 'download', 'config'];

function helpOf(args: string[]): Promise<{ output: string; error: Error | null; exited: boolean }> {
  return new Promise((resolve) => {
    let exited = false;
    createCli([], { exitProcess: false })
      .exitProcess(false)
      .parse(args, {}, (err: Error | undefined, _argv: unknown, output: string) => {
        resolve({ output, error: err ?? null, exited });
      });
    exited = true;
  });
}

describe('alignsam --help', () => {
  it('lists every command', async () => {
    const { output, error } = await helpOf(['--help']);
    expect(error).toBeNull();
    for (const n of NAMES) expect(output).toContain(`alignsam ${n}`);
    expect(COMMANDS).toHaveLength(NAMES.length);
  });

  it.each(NAMES)('%s --help succeeds and shows examples of that command', async (name) => {
    const { output, error } = await helpOf([name, '--help']);
    expect(error).toBeNull();
    expect(output).toContain('Examples:');
    const examples = output.split('Examples:')[1];
    expect(examples).toMatch(new RegExp(`alignsam ${name}\\b`));
  });

  it.each(['', ...COMMANDS.map((c) => String(c.command).split(' ')[0])])(
    '%s --help keeps each example on one line, on a narrow terminal too',
    async (name) => {
      const columns = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
      Object.defineProperty(process.stdout, 'columns', { value: 40, configurable: true });
      try {
        const { output, error } = await helpOf(name ? [name, '--help'] : ['--help']);
        expect(error).toBeNull();
        const examples = (output.split('Examples:')[1] ?? '')
          .split('\n\n')[0]
          .split('\n')
          .filter((l) => l.trim() !== '');
        for (const line of examples) expect(line).toMatch(/^ {2}alignsam \S/);
      } finally {
        if (columns) Object.defineProperty(process.stdout, 'columns', columns);
        else delete (process.stdout as { columns?: number }).columns;
      }
    },
  );

  it('bin/alignsam.js runs from the sources without a build and exits 0', () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'alignsam.js'), 'train', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toContain('--resume');
    expect(out).toContain('alignsam train --config configs/synthetic-ppo.yaml');
  });
});

describe('alignsam --version', () => {
  it("prints the package's version and exits 0", () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'alignsam.js'), '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(version);
  });
});

describe('alignsam errors', () => {
  it('an unknown command fails with a hint', async () => {
    const r = await runMain(['trian']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Did you mean train?');
  });

  it('train without a config says what to give, before loading anything', async () => {
    const r = await runMain(['train']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('give --config <yaml> (a new run) or --resume <run folder>');
  });

  it('a bad config value names the file and the key path', async () => {
    const r = await runMain(['config', '-c', path.join(ROOT, 'configs/synthetic-ppo.yaml'), '--set', 'env.horizon=0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'configs/synthetic-ppo.yaml: env.horizon: expected an integer in [1, 100], got 0 (from --set env.horizon=0)',
    );
  });

  it('config prints the resolved config with overrides', async () => {
    const r = await runMain(['config', '-c', path.join(ROOT, 'configs/synthetic-ppo.yaml'), '--set', 'env.num_envs=4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/num_envs: 4\n/);
    expect(r.stdout).toContain('max_in_memory: 256');
  });

  it('config --set __proto__.x is refused and pollutes nothing', async () => {
    const r = await runMain([
      'config',
      '-c',
      path.join(ROOT, 'configs/alignsam-paper.yaml'),
      '--set',
      '__proto__.multi=1',
    ]);
    const leaked = 'multi' in Object.prototype;
    delete (Object.prototype as Record<string, unknown>).multi;
    expect(leaked).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--set: __proto__.multi: the key '__proto__' is not allowed");
  });

  it.each([
    [
      ['export', '--run', '/nonexistent/run', '--out', '/tmp/x'],
      '/nonexistent/run is not a run folder: /nonexistent/run/config.yaml is missing',
    ],
    [['predict', '--export', '/nonexistent/export', '--image', path.join(ROOT, 'package.json')], 'package.json'],
    [['eval', '--export', '/nonexistent/export'], 'eval --export needs --config <yaml>'],
  ])('%j fails with a message naming what is wrong', async (args, message) => {
    const r = await runMain(args as string[]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });

  it('bench knows the npm bench scripts', () => {
    expect(benchScripts({ scripts: { test: 'jest', 'bench:sam': 'x', 'bench:env': 'y', build: 'tsc' } })).toEqual([
      'bench:env',
      'bench:sam',
    ]);
  });
});

describe('--shard i/n', () => {
  it('shards partition the indices: every index once, in order, sizes within one', () => {
    for (const length of [0, 1, 7, 10, 100, 1001]) {
      for (const n of [1, 2, 3, 7, 16, 150]) {
        const seen: number[] = [];
        const sizes: number[] = [];
        for (let i = 0; i < n; i++) {
          const { start, end } = shardRange(length, parseShard(`${i}/${n}`));
          for (let k = start; k < end; k++) seen.push(k);
          sizes.push(end - start);
        }
        expect(seen).toEqual(Array.from({ length }, (_, k) => k));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('is deterministic and rejects malformed shards', () => {
    expect(shardRange(10, parseShard('1/3'))).toEqual(shardRange(10, parseShard(' 1 / 3 ')));
    expect(() => parseShard('3/3')).toThrow(/i must be in \[0, 3\)/);
    expect(() => parseShard('1/0')).toThrow(/n must be >= 1/);
    expect(() => parseShard('a/b')).toThrow(/expected i\/n/);
  });
});
