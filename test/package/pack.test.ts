/**
 * The npm package: `npm run build` compiles src/ to dist/ (JavaScript and .d.ts), and `npm pack`
 * ships dist/, bin/, the micro-SAM and the configs, with no tests or sources. The packed files,
 * laid out as an install would lay them, run `alignsam` from dist/.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

let files: string[];
let tmp: string;

beforeAll(() => {
  try {
    execFileSync(NPM, ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  // prepack (the build) already ran; with scripts, their output would precede the JSON.
  const out = execFileSync(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path).sort();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-pack-'));
}, 180_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('builds and packs via prepack', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
  });

  it('ships dist/ with types, bin/, the micro-SAM and the configs', () => {
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'bin/alignsam.js',
      'models/micro-sam/weights.safetensors',
      'models/micro-sam/config.json',
      'configs/synthetic-ppo.yaml',
    ]) {
      expect(files).toContain(f);
    }
    const declared = files.filter(
      (f) =>
        f.endsWith('.d.ts') && /declare (function|const) loadSam\b/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')),
    );
    expect(declared.length).toBeGreaterThan(0);
  });

  it('ships no tests, TypeScript sources, scripts or source maps', () => {
    const clutter = files.filter(
      (f) =>
        /^(test|src|scripts|demo|examples|docs|scratch|\.ci)\//.test(f) ||
        /\.map$/.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
    );
    expect(clutter).toEqual([]);
  });

  it('runs alignsam from dist/ when laid out as installed', () => {
    const dir = path.join(tmp, 'package');
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const bin = path.join(dir, pkg.bin.alignsam);
    expect(execFileSync(process.execPath, [bin, '--version'], { cwd: tmp, encoding: 'utf8' }).trim()).toBe(pkg.version);
    expect(execFileSync(process.execPath, [bin, 'train', '--help'], { cwd: tmp, encoding: 'utf8' })).toContain(
      'alignsam train --config',
    );
    const api = execFileSync(
      process.execPath,
      ['-e', `const a = require(${JSON.stringify(dir)}); process.stdout.write(typeof a.loadSam + ' ' + typeof a.PPO)`],
      { cwd: tmp, encoding: 'utf8' },
    );
    expect(api).toBe('function function');
  });
});
