/**
 * `alignsam predict` on a quick export (an implicit-task agent with its recalibration module and
 * the micro-SAM): it writes the clicks, the mask and the overlay, and refuses a target name that
 * the agent cannot use.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeQuickExport } from '../../demo/quick-export';
import { demoScenes } from '../../demo/src/scenes';
import { initBackend } from '../../src/backend';
import { readMaskValues, writePng } from '../../src/data/image-io';
import { runMain } from './run-cli';

let tmp: string;
let exportDir: string;
let image: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-predict-'));
  ({ exportDir } = await makeQuickExport({ dir: tmp, horizon: 3 }));
  image = path.join(tmp, 'scene.png');
  await writePng(image, demoScenes('star').sample(0).image);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('alignsam predict', () => {
  it('writes the clicks, a mask PNG of the image size holding the reported area, and the overlay', async () => {
    const out = path.join(tmp, 'out');
    const r = await runMain(['predict', '--export', exportDir, '--image', image, '--out', out]);
    expect(r.stderr).not.toMatch(/alignsam:/);
    expect(r.code).toBe(0);
    const files = ['scene.clicks.json', 'scene.mask.png', 'scene.overlay.png'].map((f) => path.join(out, f));
    expect(r.stdout.trim().split('\n')).toEqual(files);
    const record = JSON.parse(fs.readFileSync(files[0], 'utf8'));
    const mask = await readMaskValues(files[1]);
    expect([mask.width, mask.height]).toEqual([record.width, record.height]);
    let inside = 0;
    for (const v of mask.values) {
      expect(v === 0 || v === 255).toBe(true);
      if (v === 255) inside++;
    }
    expect(inside).toBe(record.mask_area);
  });

  it('refuses --target for an agent trained without target names, writing nothing', async () => {
    const out = path.join(tmp, 'named');
    const r = await runMain(['predict', '--export', exportDir, '--image', image, '--out', out, '--target', 'dog']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "this agent was trained without target names (one implicit target), so it cannot look for 'dog': leave out --target",
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});
