/** The README's examples run as written. */
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..');

test.each(['examples/sam-predict.ts', 'examples/prompt-env.ts', 'examples/train-ppo.ts'])(
  '%s runs',
  (file) => {
    const r = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300000,
    });
    if (r.status !== 0) throw new Error(`${file} failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout.length).toBeGreaterThan(0);
  },
  300000,
);
