import {
  connectedComponents,
  distanceTransform,
  nextOracleClick,
  OracleClick,
  runOracleClicks,
} from '../../src/baselines';
import { clicksToReach, iou } from '../../src/metrics';
import { Rng } from '../../src/utils/rng';

const m = (rows: string) => Uint8Array.from(rows.replace(/\s+/g, ''), (c) => (c === '#' ? 1 : 0));

function disk(
  h: number,
  w: number,
  cx: number,
  cy: number,
  r: number,
  into: Uint8Array = new Uint8Array(h * w),
): Uint8Array {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) into[y * w + x] = 1;
  return into;
}

function rect(
  h: number,
  w: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  into: Uint8Array = new Uint8Array(h * w),
): Uint8Array {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) into[y * w + x] = 1;
  return into;
}

/** Brute-force Euclidean distance to the nearest background pixel (the padding ring included). */
function bruteDistance(mask: Uint8Array, h: number, w: number, pad: boolean): Float32Array {
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    if (!mask[i]) continue;
    const y = Math.floor(i / w);
    const x = i % w;
    let best = Infinity;
    const lo = pad ? -1 : 0;
    for (let by = lo; by < h - lo; by++) {
      for (let bx = lo; bx < w - lo; bx++) {
        const inside = by >= 0 && by < h && bx >= 0 && bx < w;
        if (inside && mask[by * w + bx]) continue;
        best = Math.min(best, (bx - x) ** 2 + (by - y) ** 2);
      }
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

describe('distanceTransform', () => {
  it('matches brute force exactly on random masks, with and without the image border', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 6; trial++) {
      const h = 5 + rng.int(14);
      const w = 5 + rng.int(14);
      const density = [0.3, 0.7, 0.95][trial % 3];
      const mask = Uint8Array.from({ length: h * w }, () => (rng.random() < density ? 1 : 0));
      for (const pad of [true, false]) {
        const got = distanceTransform(mask, h, w, { imageBorderIsBackground: pad });
        expect(Array.from(got)).toEqual(Array.from(bruteDistance(mask, h, w, pad)));
      }
    }
  });

  it('gives Infinity to an all-foreground mask only when the border is not background', () => {
    const full = new Uint8Array(6).fill(1);
    expect(Array.from(distanceTransform(full, 2, 3))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(distanceTransform(full, 2, 3, { imageBorderIsBackground: false }).every((d) => d === Infinity)).toBe(true);
    expect(() => distanceTransform(full, 2, 2)).toThrow(/6 pixels, 2 x 2 expected/);
  });
});

describe('connectedComponents', () => {
  const mask = m(`#..#
                  .#.#
                  ....
                  ##..`);

  it('labels with 8-connectivity (diagonals join) and 4-connectivity', () => {
    const c8 = connectedComponents(mask, 4, 4);
    expect(c8.count).toBe(3);
    expect(c8.areas).toEqual([10, 2, 2, 2]);
    expect(Array.from(c8.labels)).toEqual([1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 0, 3, 3, 0, 0]);
    const c4 = connectedComponents(mask, 4, 4, 4);
    expect(c4.count).toBe(4);
    expect(c4.areas).toEqual([10, 1, 2, 1, 2]);
  });
});

describe('nextOracleClick', () => {
  it('clicks the centre of a disk with an empty prediction, as a positive', () => {
    const h = 40;
    const w = 48;
    const gt = disk(h, w, 20, 25, 9);
    const click = nextOracleClick(gt, new Uint8Array(h * w), h, w);
    // the nearest outside pixel is (9, 1) away: distance sqrt(82)
    expect(click).toEqual({
      x: 20,
      y: 25,
      label: 1,
      distance: Math.fround(Math.sqrt(82)),
      regionArea: gt.reduce((a, b) => a + b, 0),
    });
  });

  it('clicks a false-positive blob as a negative when it is the largest error', () => {
    const h = 40;
    const w = 48;
    const gt = disk(h, w, 12, 12, 6);
    const pred = disk(h, w, 33, 28, 8, disk(h, w, 12, 12, 6));
    const click = nextOracleClick(gt, pred, h, w) as OracleClick;
    expect([click.x, click.y, click.label]).toEqual([33, 28, 0]);
    expect(nextOracleClick(gt, gt, h, w)).toBeNull();
  });

  it('picks the largest region by area, or the deepest one by distance', () => {
    const h = 30;
    const w = 60;
    // FN: a long thin bar (area 4 x 50 = 200, depth 2); FP: a 10 x 10 square (area 100, depth 5).
    const gt = rect(h, w, 5, 2, 54, 5);
    const pred = rect(h, w, 20, 15, 29, 24, new Uint8Array(h * w));
    const byArea = nextOracleClick(gt, pred, h, w) as OracleClick;
    expect(byArea.label).toBe(1);
    expect(byArea.regionArea).toBe(200);
    const byDepth = nextOracleClick(gt, pred, h, w, { regionBy: 'distance' }) as OracleClick;
    expect(byDepth.label).toBe(0);
    expect(byDepth.regionArea).toBe(100);
    expect([byDepth.x, byDepth.y]).toEqual([24, 19]); // 4 central pixels tie: first in raster order
    expect([byArea.x, byArea.y]).toEqual([29, 3]); // middle of the bar's ridge (rows 3-4, columns 7-52)
  });

  it('counts the image edge as boundary (RITM padding) unless told otherwise', () => {
    // target: the left half of a 20 x 20 image, touching three image edges
    const gt = rect(20, 20, 0, 0, 9, 19);
    const padded = nextOracleClick(gt, new Uint8Array(400), 20, 20) as OracleClick;
    // the ridge of depth 5 runs down columns 4-5, rows 4-15: its middle is (4, 9)
    expect([padded.x, padded.y, padded.distance]).toEqual([4, 9, 5]);
    const open = nextOracleClick(gt, new Uint8Array(400), 20, 20, { imageBorderIsBackground: false }) as OracleClick;
    expect([open.x, open.distance]).toEqual([0, 10]);
  });

  it('rejects masks of the wrong size', () => {
    expect(() => nextOracleClick(new Uint8Array(4), new Uint8Array(5), 2, 2)).toThrow(
      /pred 5 pixels, 2 x 2 = 4 expected/,
    );
  });
});

describe('the oracle against stand-in segmenters', () => {
  const h = 64;
  const w = 64;

  it('fixes a leak and finds a second part: positive, positive, negative, IoU 1', async () => {
    // Target: a disk and a separate square. A distractor bar touches the disk, and the segmenter
    // leaks into it: a positive click selects its connected piece of (target u distractor); a
    // negative click removes the piece of the partition {target parts, distractor} under it.
    const diskPart = disk(h, w, 24, 32, 12);
    const square = rect(h, w, 44, 6, 54, 16);
    const gt = Uint8Array.from(diskPart, (v, i) => v | square[i]);
    const bar = rect(h, w, 36, 28, 50, 35);
    for (let i = 0; i < h * w; i++) if (gt[i]) bar[i] = 0;
    const world = Uint8Array.from(gt, (v, i) => v | bar[i]);
    const pieces = connectedComponents(world, h, w);
    const parts = connectedComponents(
      Uint8Array.from(gt, (v, i) => (v || bar[i] ? 1 + bar[i] : 0)).map((v) => (v === 1 ? 1 : 0)),
      h,
      w,
    );
    const segmenter = (clicks: readonly OracleClick[]) => {
      const pred = new Uint8Array(h * w);
      for (const c of clicks.filter((k) => k.label === 1)) {
        const id = pieces.labels[c.y * w + c.x];
        if (id) for (let i = 0; i < h * w; i++) if (pieces.labels[i] === id) pred[i] = 1;
      }
      for (const c of clicks.filter((k) => k.label === 0)) {
        const j = c.y * w + c.x;
        const inBar = bar[j] === 1;
        const part = parts.labels[j];
        for (let i = 0; i < h * w; i++)
          if ((inBar && bar[i]) || (!inBar && part && parts.labels[i] === part)) pred[i] = 0;
      }
      return pred;
    };
    const run = await runOracleClicks(gt, h, w, segmenter);
    expect(run.clicks.map((c) => c.label)).toEqual([1, 1, 0]);
    expect([run.clicks[0].x, run.clicks[0].y]).toEqual([24, 32]); // disk centre
    expect([run.clicks[1].x, run.clicks[1].y]).toEqual([49, 11]); // square centre
    expect(bar[run.clicks[2].y * w + run.clicks[2].x]).toBe(1); // inside the leak
    expect(run.ious[2]).toBe(1);
    expect(run.ious[0]).toBeLessThan(0.9);
  });

  it('reaches IoU >= 0.9 within a few clicks on a local, leaking segmenter, unlike repeating one click', async () => {
    // Target: an elongated bar plus a disk; a distractor band lies along the bar's top edge. The
    // segmenter only sees near its clicks: a positive click predicts the target AND the band within
    // radius 10 of it; a negative click clears the band within radius 8 of it.
    const gt = rect(h, w, 6, 20, 57, 31);
    disk(h, w, 30, 48, 9, gt);
    const band = rect(h, w, 6, 14, 57, 19);
    const segmenter = (clicks: readonly OracleClick[]) => {
      const pred = new Uint8Array(h * w);
      for (const c of clicks) {
        if (c.label !== 1) continue;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const i = y * w + x;
            if ((gt[i] || band[i]) && (x - c.x) ** 2 + (y - c.y) ** 2 <= 100) pred[i] = 1;
          }
        }
      }
      for (const c of clicks) {
        if (c.label !== 0) continue;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) if (band[y * w + x] && (x - c.x) ** 2 + (y - c.y) ** 2 <= 64) pred[y * w + x] = 0;
      }
      return pred;
    };
    const oracle = await runOracleClicks(gt, h, w, segmenter, { maxClicks: 20 });
    const noc90 = clicksToReach(oracle.ious, 0.9);
    expect(noc90).toBeLessThanOrEqual(8); // 6 with this scene
    expect(oracle.clicks[0].label).toBe(1);
    expect(oracle.clicks.slice(0, noc90).some((c) => c.label === 0)).toBe(true); // it had to fix the leak
    expect(oracle.clicks.every((c) => (c.label === 1) === (gt[c.y * w + c.x] === 1))).toBe(true); // labels are truthful
    // the same number of clicks, all at the first click's place, falls far short
    const repeated = await segmenter(Array.from({ length: noc90 }, () => oracle.clicks[0]));
    expect(iou(repeated, gt)).toBeLessThan(0.5);
  });
});
