/**
 * `alignsam eval --run` and the run's existing report: replaced only with --overwrite, refused
 * (before any evaluation) otherwise.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runMain } from './run-cli';

const ROOT = path.resolve(__dirname, '../..');
let run: string;
let evalJson: string;

beforeAll(() => {
  run = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-eval-run-'));
  fs.copyFileSync(path.join(ROOT, 'configs', 'synthetic-ppo.yaml'), path.join(run, 'config.yaml'));
  evalJson = path.join(run, 'eval.json');
  fs.writeFileSync(evalJson, '{"written by": "training"}\n');
});
afterAll(() => {
  if (run) fs.rmSync(run, { recursive: true, force: true });
});

describe('alignsam eval --run with an existing eval.json', () => {
  it('refuses, naming the file, --overwrite and --no-write', async () => {
    const r = await runMain(['eval', '--run', run]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${evalJson} exists: add --overwrite to replace it and report/*.png, or --no-write to print the table only`,
    );
    expect(fs.readFileSync(evalJson, 'utf8')).toBe('{"written by": "training"}\n');
  });

  it.each([['--overwrite'], ['--no-write']])('goes on with %s (to the missing checkpoint here)', async (flag) => {
    const r = await runMain(['eval', '--run', run, flag]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('exists: add --overwrite');
    expect(r.stderr).toContain('no checkpoint yet');
    expect(fs.readFileSync(evalJson, 'utf8')).toBe('{"written by": "training"}\n');
  });
});
