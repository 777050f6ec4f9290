/**
 * The demo page in headless Chromium (chosen by ./chromium.ts): the page is built with esbuild, served
 * with a quick export (PPO, recalibration module, the committed micro-SAM), and driven like a
 * user: a synthetic scene played to the end, then a dropped PNG stepped once and played out.
 * Each time the page's clicks and mask must equal `alignsam predict`'s in Node on the same image,
 * the drawn mask must have exactly the reported area, and the clicks must be drawn.
 * Screenshots: .cache/demo/demo-scene.png and .cache/demo/demo-dropped.png.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { findChromium } from './chromium';
import { buildDemo, ROOT_DIR } from '../../demo/build';
import { makeQuickExport } from '../../demo/quick-export';
import { startDemoServer, type DemoServer } from '../../demo/server';
import { demoScenes } from '../../demo/src/scenes';
import { initBackend } from '../../src/backend';
import { encodePng, resizeRgb } from '../../src/data/image-io';
import type { RgbImage } from '../../src/data/types';
import { loadExport, type LoadedExport } from '../../src/runs/export';
import { predictImage, type Prediction } from '../../src/runs/predict';

const SHOTS = path.join(ROOT_DIR, '.cache', 'demo');

let tmp: string;
let server: DemoServer;
let context: BrowserContext;
let page: Page;
let exp: LoadedExport;
const pageErrors: string[] = [];

// The page's scenes with the quick export's target.
const scenes = demoScenes('star');

beforeAll(async () => {
  const browser = findChromium(path.join(ROOT_DIR, '.cache', 'chromium'));
  process.stderr.write(`demo page: Chromium from ${browser.source}\n`);
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-demo-'));
  const built = await buildDemo({ outDir: path.join(tmp, 'dist') });
  const { exportDir } = await makeQuickExport({ dir: tmp });
  exp = await loadExport(exportDir);
  server = await startDemoServer({ distDir: built.outDir, exportDir });
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: browser.executablePath,
    env: browser.env,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1150, height: 960 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  fs.mkdirSync(SHOTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  exp?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface PageResult {
  state: string;
  status: string;
  steps: { step: number; cell: number; label: number }[];
  maskArea: number;
  stepCount: string;
  mask: { width: number; height: number; white: number; other: number };
  clickPixels: number;
}

/** What the page shows: status, step table, reported area, and pixels counted on its canvases. */
async function readPage(): Promise<PageResult> {
  return page.evaluate(() => {
    const status = document.getElementById('status')!;
    const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('#steps tbody tr'));
    const maskCanvas = document.getElementById('mask') as HTMLCanvasElement;
    const m = maskCanvas.getContext('2d')!.getImageData(0, 0, maskCanvas.width, maskCanvas.height).data;
    let white = 0;
    let other = 0;
    for (let i = 0; i < m.length; i += 4) {
      if (m[i] === 255 && m[i + 1] === 255 && m[i + 2] === 255) white++;
      else if (m[i] !== 0 || m[i + 1] !== 0 || m[i + 2] !== 0) other++;
    }
    const view = document.getElementById('view') as HTMLCanvasElement;
    const v = view.getContext('2d')!.getImageData(0, 0, view.width, view.height).data;
    // Click markers are filled with exactly these colours (demo/src/draw.ts).
    let clickPixels = 0;
    for (let i = 0; i < v.length; i += 4) {
      const rgb = (v[i] << 16) | (v[i + 1] << 8) | v[i + 2];
      if (rgb === 0x22c55e || rgb === 0xef4444) clickPixels++;
    }
    return {
      state: status.dataset.state ?? '',
      status: status.textContent ?? '',
      steps: rows.map((r) => ({
        step: Number(r.dataset.step),
        cell: Number(r.dataset.cell),
        label: Number(r.dataset.label),
      })),
      maskArea: Number(document.getElementById('mask-area')!.dataset.value),
      stepCount: document.getElementById('step-count')!.textContent ?? '',
      mask: { width: maskCanvas.width, height: maskCanvas.height, white, other },
      clickPixels,
    };
  });
}

async function waitForState(...states: string[]): Promise<void> {
  await page.waitForSelector(states.map((s) => `#status[data-state=${s}]`).join(', '), { timeout: 30_000 });
  const state = await page.getAttribute('#status', 'data-state');
  if (state === 'error') throw new Error(`page error: ${await page.textContent('#status')}`);
}

function expectSameAsNode(shown: PageResult, reference: Prediction): void {
  expect(shown.steps).toEqual(reference.clicks.map((c) => ({ step: c.step, cell: c.cell, label: c.label })));
  expect(shown.maskArea).toBe(reference.maskArea);
  expect(shown.mask).toEqual({ width: reference.width, height: reference.height, white: reference.maskArea, other: 0 });
}

describe('demo page in headless Chromium', () => {
  it('plays the agent on a synthetic scene: the clicks and mask of alignsam predict, drawn', async () => {
    // The first held-out scene where the agent and the micro-SAM give a non-empty mask, so that
    // drawing a mask is tested whatever the current weights segment.
    let index = -1;
    let reference: Prediction | null = null;
    for (let i = 0; i < 8 && index < 0; i++) {
      const p = await predictImage(exp, scenes.sample(i).image, null);
      if (p.maskArea > 0) [index, reference] = [i, p];
    }
    if (!reference) throw new Error('the agent and the micro-SAM gave empty masks on held-out scenes 0-7');

    const t0 = Date.now();
    await page.goto(`${server.url}?delay=0&scene=${index}`);
    await waitForState('ready');
    const loadMs = Date.now() - t0;
    expect(await page.textContent('#image-info')).toContain(`synthetic scene ${index} (test split)`);
    await page.click('#run');
    await waitForState('done');
    const shown = await readPage();
    await page.screenshot({ path: path.join(SHOTS, 'demo-scene.png'), fullPage: true });

    expect(shown.stepCount).toBe(`${exp.manifest.env.horizon} / ${exp.manifest.env.horizon}`);
    expectSameAsNode(shown, reference);
    expect(shown.maskArea).toBeGreaterThan(0);
    expect(shown.clickPixels).toBeGreaterThan(0);
    expect(shown.status).toContain(`mask area ${reference.maskArea} px`);
    expect(pageErrors).toEqual([]);

    // Again on the same image: the same result, and no tensor left behind by the first episode.
    const tensors = await page.getAttribute('#status', 'data-tensors');
    await page.click('#run');
    await waitForState('done');
    expectSameAsNode(await readPage(), reference);
    expect(await page.getAttribute('#status', 'data-tensors')).toBe(tensors);
    const timings = await page.evaluate(() => ({ ...document.getElementById('status')!.dataset }));
    process.stderr.write(`demo page: ready in ${loadMs} ms, ${JSON.stringify(timings)}\n`);
  });

  it('takes a dropped image of another size, one step at a time and then to the end', async () => {
    const image: RgbImage = await resizeRgb(scenes.sample(20).image, 200, 150);
    const png = await encodePng(image);
    const reference = await predictImage(exp, image, null);

    await page.goto(`${server.url}?delay=0`);
    await waitForState('ready');
    const drop = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, png.toString('base64'));
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: drop });
    await page.waitForFunction(
      () => document.getElementById('image-info')!.textContent!.startsWith('dropped.png, 200×150'),
      undefined,
      { timeout: 10_000 },
    );

    await page.click('#step');
    await waitForState('ready');
    const one = await readPage();
    expect(one.stepCount).toBe(`1 / ${exp.manifest.env.horizon}`);
    expect(one.steps).toEqual(
      reference.clicks.filter((c) => c.step <= 1).map((c) => ({ step: c.step, cell: c.cell, label: c.label })),
    );

    await page.click('#run');
    await waitForState('done');
    const shown = await readPage();
    await page.screenshot({ path: path.join(SHOTS, 'demo-dropped.png'), fullPage: true });
    expectSameAsNode(shown, reference);
    expect(shown.clickPixels).toBeGreaterThan(0);
    expect(await page.textContent('#iou')).toBe('n/a');
    expect(pageErrors).toEqual([]);
  });
});
