import {
  correctiveClick,
  downsampleMask,
  jitterBox,
  maskBox,
  randomForegroundClick,
} from '../../src/sam-training/click-sampling';
import { Rng } from '../../src/utils/rng';

// 6 x 4 grid: target is the 2 x 2 block at columns 1-2, rows 1-2.
const W = 6;
const H = 4;
const gt = new Uint8Array(W * H);
for (const [x, y] of [
  [1, 1],
  [2, 1],
  [1, 2],
  [2, 2],
])
  gt[y * W + x] = 1;

describe('click sampling', () => {
  it('random foreground clicks land on the target and are positive', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const c = randomForegroundClick(gt, W, rng);
      expect(gt[c.y * W + c.x]).toBe(1);
      expect(c.label).toBe(1);
    }
    expect(() => randomForegroundClick(new Uint8Array(4), 2, rng)).toThrow(/empty/);
  });

  it('corrective clicks land in the error region with the matching label', () => {
    // Prediction misses (2, 2) and wrongly includes (4, 0) and (5, 0).
    const pred = Uint8Array.from(gt);
    pred[2 * W + 2] = 0;
    pred[0 * W + 4] = 1;
    pred[0 * W + 5] = 1;
    const rng = new Rng(5);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = correctiveClick(gt, pred, W, H, rng, 0.3);
      const idx = c.y * W + c.x;
      expect(gt[idx]).not.toBe(pred[idx]);
      expect(c.label).toBe(gt[idx]);
      seen.add(`${c.x},${c.y}`);
    }
    expect(seen).toEqual(new Set(['2,2', '4,0', '5,0']));
  });

  it('the box is tight and jitter keeps it inside the image and ordered', () => {
    expect(maskBox(gt, W, H)).toEqual([1, 1, 3, 3]);
    expect(maskBox(new Uint8Array(W * H), W, H)).toBeNull();
    const rng = new Rng(1);
    for (let i = 0; i < 50; i++) {
      const [x0, y0, x1, y1] = jitterBox([1, 1, 3, 3], W, H, rng);
      expect(x0).toBeGreaterThanOrEqual(0);
      expect(y0).toBeGreaterThanOrEqual(0);
      expect(x1).toBeLessThanOrEqual(W);
      expect(y1).toBeLessThanOrEqual(H);
      expect(x0).toBeLessThanOrEqual(x1);
      expect(y0).toBeLessThanOrEqual(y1);
      // Noise is bounded by 20% of the side (2 px here).
      expect(Math.abs(x0 - 1)).toBeLessThanOrEqual(0.4 + 1e-9);
    }
  });

  it('downsampling pools by the factor with a one-half threshold', () => {
    const m = new Uint8Array(16);
    // Top-left 2x2 block full, top-right block half (2 of 4), bottom-left one pixel.
    for (const i of [0, 1, 4, 5, 2, 3, 8]) m[i] = 1;
    expect(Array.from(downsampleMask(m, 4, 4, 2))).toEqual([1, 1, 0, 0]);
    expect(() => downsampleMask(m, 4, 4, 3)).toThrow(/divisible/);
  });
});
