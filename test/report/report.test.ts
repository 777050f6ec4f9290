import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { SyntheticDataset } from '../../src/data/synthetic';
import { drawEpisode } from '../../src/report/episode-picture';
import { textWidth } from '../../src/report/font';
import { formatTick, linePlot, niceTicks } from '../../src/report/line-plot';
import { Canvas, COLORS, PALETTE } from '../../src/report/raster';
import { trainingPlot, writeRunReport } from '../../src/report/run-report';

function countColor(c: Canvas, rgb: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < c.data.length; i += 3) if (c.data[i] === rgb[0] && c.data[i + 1] === rgb[1] && c.data[i + 2] === rgb[2]) n++;
  return n;
}

describe('plots', () => {
  it('picks 1-2-5 ticks covering the range and short tick labels', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1].map((v) => expect.closeTo(v, 12)));
    expect(niceTicks(500, 20000, 6)).toEqual([5000, 10000, 15000, 20000]);
    expect(formatTick(20000)).toBe('20K');
    expect(formatTick(0.25)).toBe('0.25');
    expect(formatTick(0)).toBe('0');
  });

  it('draws each series in its colour inside a canvas of the asked size, and encodes a PNG of that size', async () => {
    const c = linePlot({
      title: 'T',
      xLabel: 'X',
      yLabel: 'Y',
      width: 500,
      height: 300,
      series: [
        { name: 'A', points: [[0, 0], [10, 1]] },
        { name: 'B', points: [[0, 1], [10, 0]] },
      ],
    });
    expect([c.width, c.height]).toEqual([500, 300]);
    expect(countColor(c, PALETTE[0])).toBeGreaterThan(200);
    expect(countColor(c, PALETTE[1])).toBeGreaterThan(200);
    const meta = await sharp(await c.toPng()).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 500, 300]);
  });

  it('says when there is nothing to plot', () => {
    const c = linePlot({ title: 'T', xLabel: 'X', yLabel: 'Y', series: [{ name: 'A', points: [] }] });
    expect(countColor(c, PALETTE[0])).toBe(0);
    expect(countColor(c, COLORS.axis)).toBeGreaterThan(0);
  });

  it('stacks three training panels from metrics records', () => {
    const recs = Array.from({ length: 5 }, (_, i) => ({ step: (i + 1) * 100, 'rollout/ep_rew_mean': i, 'rollout/ep_iou_mean': i / 10, 'rollout/label_accuracy': 0.5 }));
    const c = trainingPlot(recs, { width: 400 });
    expect([c.width, c.height]).toEqual([400, 900]);
  });

  it('writes the report PNGs of a run folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-report-'));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step": 10, "rollout/ep_rew_mean": 1}\n{"step": 20, "rollout/ep_rew_mean": 2}\n');
    const files = await writeRunReport(dir, [{ policy: 'agent', episodes: [], mean: {}, meanIouCurve: [0.2, 0.5, 0.6] }]);
    const t = await sharp(files.training!).metadata();
    const m = await sharp(files.miouClicks!).metadata();
    expect([t.width, t.height, m.width, m.height]).toEqual([640, 900, 640, 400]);
  });
});

describe('episode pictures', () => {
  it('enlarges small images and numbers the clicks on discs of the label colour', async () => {
    const sample = await new SyntheticDataset({ seed: 2, length: 1, imageSize: 64 }).get(0);
    const c = drawEpisode({ sample, mask: sample.mask, pointsXY: [8, 8, 40, 40, 20, 50], labels: [1, 0, 1], initialCount: 1 }, { minSide: 256 });
    expect([c.width, c.height]).toEqual([256, 256]);
    // Click 1 (negative, red disc) at (40, 40) * 4: the number is white on red.
    const cx = 160;
    const cy = 160;
    let red = 0;
    let white = 0;
    for (let y = cy - 7; y <= cy + 7; y++) {
      for (let x = cx - 7; x <= cx + 7; x++) {
        const p = c.getPixel(x, y);
        if (p.join() === COLORS.negative.join()) red++;
        if (p.join() === COLORS.white.join()) white++;
      }
    }
    expect(red).toBeGreaterThan(80);
    expect(white).toBeGreaterThan(5);
    expect(textWidth('12')).toBe(11);
  });
});
