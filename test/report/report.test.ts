import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { SyntheticDataset } from '../../src/data/synthetic';
import type { RgbImage } from '../../src/data/types';
import { readAblationSummary } from '../../src/report/ablation-summary';
import { ablationPlot } from '../../src/report/ablation-plot';
import { contactSheet, drawEpisode } from '../../src/report/episode-picture';
import { formatTick, linePlot, niceTicks, type PlotOptions } from '../../src/report/line-plot';
import { COLORS, PALETTE, rgbOf, seriesColors } from '../../src/report/palette';
import { figureToPng, svgDocument, type Figure } from '../../src/report/svg';
import { trainingPlot, writeRunReport } from '../../src/report/run-report';

const ROOT = path.join(__dirname, '..', '..');

async function rasterOf(f: Figure): Promise<RgbImage> {
  const { data, info } = await sharp(await figureToPng(f))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Pixels within `tol` (per channel) of `hex`. */
function countNear(img: RgbImage, hex: string, tol = 24): number {
  const [r, g, b] = rgbOf(hex);
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) {
    if (
      Math.abs(img.data[i] - r) <= tol &&
      Math.abs(img.data[i + 1] - g) <= tol &&
      Math.abs(img.data[i + 2] - b) <= tol
    )
      n++;
  }
  return n;
}

/** The stroke (or fill, for lone markers) colour of each series group in a figure, in order. */
function seriesColorsOf(f: Figure): string[] {
  return [...f.body.matchAll(/<g class="series"[^>]*><(?:polyline|circle)[^>]*?(?:stroke|fill)="(#[0-9a-f]{6})"/g)].map(
    (m) => m[1],
  );
}

const twoLines: PlotOptions = {
  title: 'T',
  xLabel: 'X',
  yLabel: 'Y',
  width: 500,
  height: 300,
  series: [
    {
      name: 'A',
      points: [
        [0, 0],
        [10, 1],
      ],
    },
    {
      name: 'B',
      points: [
        [0, 1],
        [10, 0],
      ],
    },
  ],
};

describe('plots', () => {
  it('picks 1-2-5 ticks covering the range and short tick labels', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1].map((v) => expect.closeTo(v, 12)));
    expect(niceTicks(500, 20000, 6)).toEqual([5000, 10000, 15000, 20000]);
    expect(formatTick(20000)).toBe('20k');
    expect(formatTick(0.25)).toBe('0.25');
    expect(formatTick(0)).toBe('0');
  });

  it('draws each series in its own colour, and rasterises to a PNG of the asked size', async () => {
    const f = linePlot(twoLines);
    expect([f.width, f.height]).toEqual([500, 300]);
    expect(seriesColorsOf(f)).toEqual([PALETTE[0], PALETTE[1]]);
    const png = await figureToPng(f);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 500, 300]);
    const img = await rasterOf(f);
    expect(countNear(img, PALETTE[0])).toBeGreaterThan(200);
    expect(countNear(img, PALETTE[1])).toBeGreaterThan(200);
  });

  it('draws the title as text: the band above the plot area is blank without it', async () => {
    const titled = await rasterOf(linePlot({ ...twoLines, title: 'mIoU vs clicks' }));
    const untitled = await rasterOf(linePlot({ ...twoLines, title: '' }));
    // Dark pixels in the title band, which holds nothing but the title.
    let dark = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < titled.width; x++) {
        const i = (y * titled.width + x) * 3;
        if (titled.data[i] < 128 && untitled.data[i] >= 128) dark++;
      }
    }
    expect(dark).toBeGreaterThan(100);
  });

  it('gives the same SVG for the same input, and the same PNG within a process', async () => {
    const a = linePlot(twoLines);
    const b = linePlot(JSON.parse(JSON.stringify(twoLines)) as PlotOptions);
    expect(svgDocument(a)).toBe(svgDocument(b));
    expect((await figureToPng(a)).equals(await figureToPng(b))).toBe(true);
    expect(svgDocument(linePlot({ ...twoLines, title: 'U' }))).not.toBe(svgDocument(a));
  });

  it('escapes names, so any series name gives a valid SVG', async () => {
    const f = linePlot({
      ...twoLines,
      series: [
        {
          name: 'a < b & "c"',
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
    expect(f.body).toContain('a &lt; b &amp; &quot;c&quot;');
    expect((await sharp(await figureToPng(f)).metadata()).width).toBe(500);
  });

  it('says when there is nothing to plot', async () => {
    const f = linePlot({ title: 'T', xLabel: 'X', yLabel: 'Y', series: [{ name: 'A', points: [] }] });
    expect(f.body).toContain('>no data</text>');
    expect(seriesColorsOf(f)).toEqual([]);
    expect(countNear(await rasterOf(f), PALETTE[0], 8)).toBe(0);
  });

  it('refuses a size that leaves no room for the plot area', () => {
    expect(() => linePlot({ ...twoLines, width: 120 })).toThrow(/120x300 leaves no room/);
  });

  it('gives every series a different colour, beyond the palette too', () => {
    for (const n of [1, PALETTE.length, PALETTE.length + 1, 24]) expect(new Set(seriesColors(n)).size).toBe(n);
  });

  it('draws every row of the committed ablation in its own colour', () => {
    const s = readAblationSummary(path.join(ROOT, 'docs', 'results', 'ablation.json'));
    const colors = seriesColorsOf(ablationPlot(s));
    expect(colors).toHaveLength(s.rows.length);
    expect(new Set(colors).size).toBe(s.rows.length);
  });

  it('stacks three training panels from metrics records', async () => {
    const recs = Array.from({ length: 5 }, (_, i) => ({
      step: (i + 1) * 100,
      'rollout/ep_rew_mean': i,
      'rollout/ep_iou_mean': i / 10,
      'rollout/label_accuracy': 0.5,
    }));
    const f = trainingPlot(recs, { width: 500 });
    expect([f.width, f.height]).toEqual([500, 900]);
    expect(f.body.match(/<g transform="translate\(0 (0|300|600)\)">/g)).toHaveLength(3);
    const meta = await sharp(await figureToPng(f)).metadata();
    expect([meta.width, meta.height]).toEqual([500, 900]);
  });

  it('writes the report of a run folder: PNGs with their SVGs beside them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-report-'));
    fs.writeFileSync(
      path.join(dir, 'metrics.jsonl'),
      '{"step": 10, "rollout/ep_rew_mean": 1}\n{"step": 20, "rollout/ep_rew_mean": 2}\n',
    );
    const files = await writeRunReport(dir, [
      { policy: 'agent', episodes: [], mean: {}, meanIouCurve: [0.2, 0.5, 0.6] },
    ]);
    const t = await sharp(files.training!).metadata();
    const m = await sharp(files.miouClicks!).metadata();
    expect([t.width, t.height, m.width, m.height]).toEqual([720, 900, 720, 400]);
    expect(fs.readdirSync(path.join(dir, 'report')).sort()).toEqual([
      'miou-clicks.png',
      'miou-clicks.svg',
      'training.png',
      'training.svg',
    ]);
    expect(fs.readFileSync(path.join(dir, 'report', 'miou-clicks.svg'), 'utf8')).toMatch(
      /^<svg [^>]*width="720" height="400"/,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('episode pictures', () => {
  it('enlarges small images and numbers the clicks on discs of the label colour', async () => {
    const sample = await new SyntheticDataset({ seed: 2, length: 1, imageSize: 64 }).get(0);
    const picture = {
      sample,
      mask: sample.mask,
      pointsXY: [8, 8, 40, 40, 20, 50],
      labels: [1, 0, 1] as (0 | 1)[],
      initialCount: 1,
    };
    const c = await drawEpisode(picture, { minSide: 256 });
    expect([c.width, c.height]).toEqual([256, 256]);
    // Click 1 (negative, red disc) at (40, 40) * 4: the number is white on red.
    let red = 0;
    let white = 0;
    for (let y = 160 - 7; y <= 160 + 7; y++) {
      for (let x = 160 - 7; x <= 160 + 7; x++) {
        const p = Array.from(c.data.subarray((y * c.width + x) * 3, (y * c.width + x) * 3 + 3));
        if (p.join() === rgbOf(COLORS.negative).join()) red++;
        if (p.every((v) => v > 230)) white++;
      }
    }
    expect(red).toBeGreaterThan(80);
    expect(white).toBeGreaterThan(5);
    // The P0 square at (8, 8) * 4 is filled with the positive colour.
    const i = (32 * c.width + 32) * 3;
    expect(Array.from(c.data.subarray(i, i + 3))).toEqual(rgbOf(COLORS.positive));

    const captioned = await drawEpisode(picture, { minSide: 256, caption: 'star  IoU 0.50' });
    expect([captioned.width, captioned.height]).toEqual([256, 256 + 18]);
    const again = await drawEpisode(picture, { minSide: 256, caption: 'star  IoU 0.50' });
    expect(Buffer.from(again.data).equals(Buffer.from(captioned.data))).toBe(true);
  });

  it('lays pictures out in rows under a title', async () => {
    const tile = (v: number): RgbImage => ({ width: 100, height: 80, data: new Uint8Array(100 * 80 * 3).fill(v) });
    const sheet = await contactSheet([tile(10), tile(20), tile(30), tile(40)], 'agent: evaluation episodes', 3);
    expect(sheet.height).toBe(60 + 2 * (80 + 8));
    expect(sheet.width).toBeGreaterThanOrEqual(3 * 100 + 4 * 8);
    const at = (x: number, y: number) => sheet.data[(y * sheet.width + x) * 3];
    expect([at(8 + 50, 60 + 40), at(116 + 50, 60 + 40), at(224 + 50, 60 + 40), at(8 + 50, 148 + 40)]).toEqual([
      10, 20, 30, 40,
    ]);
    const empty = await contactSheet([], 'agent');
    expect([empty.width, empty.height]).toEqual([360, 60]);
  });
});
