import {
  resolveSyntheticConfig,
  SPLIT_OFFSETS,
  SyntheticDataset,
  syntheticSplit,
  type SyntheticConfig,
} from '../../src/data/synthetic';
import { ownership, rasterizeShapes, type SceneSpec } from '../../src/data/synthetic/scene';
import { makeShape, SHAPE_NAMES, type ShapeName } from '../../src/data/synthetic/shapes';
import { countDiffering } from './helpers/masks';
import type { Sample } from '../../src/data/types';

const sum = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
const sceneOf = (s: Sample) => s.meta!.scene as SceneSpec;

describe('SyntheticDataset determinism', () => {
  it('gives the same sample for the same (seed, index), in any order and instance', () => {
    const a = new SyntheticDataset({ seed: 5, length: 50 });
    const b = new SyntheticDataset({ seed: 5, length: 50 });
    const forward = [3, 17, 42].map((i) => a.sample(i));
    const backward = [42, 17, 3].map((i) => b.sample(i)).reverse();
    for (let k = 0; k < 3; k++) {
      expect(backward[k].id).toBe(forward[k].id);
      expect(countDiffering(backward[k].image.data, forward[k].image.data)).toBe(0);
      expect(countDiffering(backward[k].mask, forward[k].mask)).toBe(0);
      expect(backward[k].targetName).toBe(forward[k].targetName);
    }
    expect(a.sample(3).image.data).not.toEqual(a.sample(4).image.data);
    const otherSeed = new SyntheticDataset({ seed: 6, length: 50 });
    expect(countDiffering(otherSeed.sample(3).image.data, forward[0].image.data)).toBeGreaterThan(1000);
  });

  it('makes train/val/test splits from disjoint index ranges', async () => {
    const cfg: SyntheticConfig = { seed: 2, length: 20 };
    const [train, val, test] = (['train', 'val', 'test'] as const).map((s) => syntheticSplit(cfg, s));
    const ids = [train, val, test].map((ds) => new Set(Array.from({ length: 20 }, (_, i) => ds.sample(i).id)));
    expect(ids[0].size + ids[1].size + ids[2].size).toBe(60);
    expect(new Set([...ids[0], ...ids[1], ...ids[2]]).size).toBe(60);
    expect(train.name).toBe('synthetic:2/train');
    // A split is the same task read from its offset.
    const direct = new SyntheticDataset({ seed: 2, length: 20, indexOffset: SPLIT_OFFSETS.val });
    expect(countDiffering((await val.get(7)).image.data, direct.sample(7).image.data)).toBe(0);
    expect(countDiffering(train.sample(7).image.data, new SyntheticDataset(cfg).sample(7).image.data)).toBe(0);
  });
});

describe('SyntheticDataset masks', () => {
  /** Flat-coloured, not anti-aliased scenes: a pixel's colour tells which object is drawn there. */
  function checkMaskIsTargetColour(config: SyntheticConfig, n: number): void {
    const ds = new SyntheticDataset({ ...config, textures: ['flat'], antialias: false, length: n });
    for (let i = 0; i < n; i++) {
      const s = ds.sample(i);
      const scene = sceneOf(s);
      const key = (c: number[]) => c.join(',');
      const targetColours = new Set(scene.objects.filter((o) => o.isTarget).map((o) => key(o.texture.colorA)));
      const otherColours = new Set([
        key(scene.background.colorA),
        ...scene.objects.filter((o) => !o.isTarget).map((o) => key(o.texture.colorA)),
      ]);
      // Precondition of this check: target colours are not used by anything else.
      expect([...targetColours].filter((c) => otherColours.has(c))).toEqual([]);
      let wrong = 0;
      for (let p = 0; p < s.width * s.height; p++) {
        const c = key(Array.from(s.image.data.subarray(3 * p, 3 * p + 3)));
        if (s.mask[p] !== (targetColours.has(c) ? 1 : 0)) wrong++;
      }
      expect({ i, wrong }).toEqual({ i, wrong: 0 });
      expect(sum(s.mask)).toBeGreaterThan(0);
    }
  }

  it('marks exactly the pixels where the target is drawn (occlusion removed)', () => {
    checkMaskIsTargetColour({ seed: 11, distractors: [2, 5] }, 25);
  });

  it('marks all instances, or only the chosen one, in multi scenes', () => {
    checkMaskIsTargetColour({ seed: 12, multi: 1, multiTarget: 'all' }, 10);
    checkMaskIsTargetColour({ seed: 13, multi: 1, multiTarget: 'one' }, 10);
    const one = new SyntheticDataset({ seed: 13, multi: 1, multiTarget: 'one', length: 10 });
    const all = new SyntheticDataset({ seed: 13, multi: 1, multiTarget: 'all', length: 10 });
    for (let i = 0; i < 10; i++) {
      const scene = sceneOf(one.sample(i));
      expect(scene.objects.filter((o) => o.isTarget)).toHaveLength(1);
      expect(scene.objects.filter((o) => o.isTargetCategory).length).toBeGreaterThanOrEqual(2);
      expect(scene.objects.filter((o) => o.isTargetCategory).every((o) => o.placement.shape === scene.target)).toBe(
        true,
      );
      expect(sceneOf(all.sample(i)).objects.filter((o) => o.isTarget).length).toBeGreaterThanOrEqual(2);
    }
  });

  it('does not change the mask with anti-aliasing, only edge pixels of the image', () => {
    const aa = new SyntheticDataset({ seed: 21, length: 8 });
    const sharp = new SyntheticDataset({ seed: 21, length: 8, antialias: false });
    for (let i = 0; i < 8; i++) {
      const a = aa.sample(i);
      const b = sharp.sample(i);
      expect(countDiffering(a.mask, b.mask)).toBe(0);
      const changed = countDiffering(a.image.data, b.image.data);
      expect(changed).toBeGreaterThan(0);
      // Edges are a small part of the image.
      expect(changed).toBeLessThan(0.25 * a.image.data.length);
    }
  });

  it('keeps every target instance at least minVisible visible', () => {
    const ds = new SyntheticDataset({ seed: 31, length: 30, distractors: [3, 6], multi: 0.5, minVisible: 0.6 });
    for (let i = 0; i < 30; i++) {
      const scene = sceneOf(ds.sample(i));
      const rasters = rasterizeShapes(scene);
      const owner = ownership(scene, rasters);
      scene.objects.forEach((o, k) => {
        if (!o.isTarget) return;
        const own = rasters[k].distance.reduce((a, d) => a + (d < 0 ? 1 : 0), 0);
        const visible = owner.reduce((a, v) => a + (v === k + 1 ? 1 : 0), 0);
        expect(visible).toBeGreaterThanOrEqual(0.6 * own);
      });
    }
  });

  it('camouflages the target with the background texture', () => {
    const n = 20;
    const camo = new SyntheticDataset({ seed: 41, length: n, camouflage: 1 });
    const plain = new SyntheticDataset({ seed: 41, length: n });
    const meanGap = (ds: SyntheticDataset) => {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const s = ds.sample(i);
        const scene = sceneOf(s);
        if (ds === camo) {
          expect(scene.camouflage).toBe(true);
          for (const o of scene.objects.filter((x) => x.isTarget)) expect(o.texture.kind).toBe(scene.background.kind);
        }
        const fg = [0, 0, 0];
        const bg = [0, 0, 0];
        const owner = ownership(scene);
        let nf = 0;
        let nb = 0;
        for (let p = 0; p < owner.length; p++) {
          const acc = s.mask[p] ? fg : owner[p] === 0 ? bg : null;
          if (!acc) continue;
          for (let c = 0; c < 3; c++) acc[c] += s.image.data[3 * p + c];
          if (s.mask[p]) nf++;
          else nb++;
        }
        total += Math.hypot(...fg.map((v, c) => v / nf - bg[c] / nb));
      }
      return total / n;
    };
    const camoGap = meanGap(camo);
    const plainGap = meanGap(plain);
    expect(camoGap).toBeLessThan(0.5 * plainGap);
    expect(camoGap).toBeGreaterThan(0); // still a (faint) cue
  });

  it('honours categories, targets and image size', () => {
    const ds = new SyntheticDataset({
      seed: 51,
      length: 12,
      categories: ['circle', 'star', 'ring'],
      targets: ['star'],
      imageSize: [96, 64],
      distractors: [2, 2],
    });
    expect(ds.categories).toEqual(['star']);
    for (let i = 0; i < 12; i++) {
      const s = ds.sample(i);
      expect([s.width, s.height, s.image.data.length, s.mask.length]).toEqual([96, 64, 96 * 64 * 3, 96 * 64]);
      expect(s.targetName).toBe('star');
      const shapes = sceneOf(s).objects.map((o) => o.placement.shape);
      expect(shapes.filter((x) => x === 'star')).toHaveLength(1);
      expect(shapes.filter((x) => x !== 'star').every((x) => x === 'circle' || x === 'ring')).toBe(true);
      expect(shapes).toHaveLength(3);
    }
  });

  it('draws every named target category', () => {
    const ds = new SyntheticDataset({ seed: 61, length: 80 });
    const seen = new Set<string>();
    for (let i = 0; i < 80; i++) seen.add(ds.sample(i).targetName!);
    expect([...seen].sort()).toEqual([...SHAPE_NAMES].sort());
  });

  it('generates a 256 x 256 sample in a few milliseconds', () => {
    const ds = new SyntheticDataset({ seed: 71, length: 60, imageSize: 256 });
    for (let i = 0; i < 10; i++) ds.sample(i); // warm up the JIT
    const t0 = process.cpuUsage();
    for (let i = 10; i < 60; i++) ds.sample(i);
    const msPerSample = process.cpuUsage(t0).user / 1000 / 50;
    // Measured ~6 ms of CPU on the dev machine; the bound leaves room for slower CI machines.
    expect(msPerSample).toBeLessThan(30);
  });
});

describe('shapes', () => {
  /** Area from the SDF on a fine grid, as a fraction of the outer circle. */
  function areaFraction(shape: ShapeName, aspect = 0.6): number {
    const r = 40;
    const s = makeShape({ shape, cx: 50, cy: 50, radius: r, rotation: 0.3, aspect }, 100, 100);
    let inside = 0;
    const step = 0.25;
    for (let y = 0; y < 100; y += step) for (let x = 0; x < 100; x += step) if (s.distance(x, y) < 0) inside++;
    return (inside * step * step) / (Math.PI * r * r);
  }

  it('have the areas of their geometry', () => {
    const expected: Record<ShapeName, number> = {
      circle: 1,
      square: 2 / Math.PI, // side r*sqrt(2)
      ring: 1 - 0.44 ** 2, // outer r, inner 0.44 r
      ellipse: 0.6,
      triangle: (3 * Math.sqrt(3)) / (4 * Math.PI),
      hexagon: (3 * Math.sqrt(3)) / (2 * Math.PI),
      star: (5 * 0.45 * Math.sin((2 * Math.PI) / 10)) / Math.PI, // 10 triangles r * 0.45r * sin(36deg) / 2
      cross: (2 * (1.9 * 0.6) - 0.6 * 0.6) / Math.PI, // two 1.9r x 0.6r bars overlapping in 0.6r x 0.6r
    };
    for (const name of SHAPE_NAMES)
      expect({ name, a: areaFraction(name) }).toEqual({ name, a: expect.closeTo(expected[name], 2) });
  });

  it('have exact signed distances to the outline where it is simple', () => {
    const c = makeShape({ shape: 'circle', cx: 0, cy: 0, radius: 10, rotation: 0, aspect: 1 }, 50, 50);
    expect(c.distance(13, 4)).toBeCloseTo(Math.hypot(13, 4) - 10, 10);
    const sq = makeShape({ shape: 'square', cx: 0, cy: 0, radius: 10 * Math.SQRT2, rotation: 0, aspect: 1 }, 50, 50);
    expect(sq.distance(12, 0)).toBeCloseTo(2, 10);
    expect(sq.distance(0, -7)).toBeCloseTo(-3, 10);
    expect(sq.distance(13, 14)).toBeCloseTo(5, 10);
    const rotated = makeShape(
      { shape: 'square', cx: 0, cy: 0, radius: 10 * Math.SQRT2, rotation: Math.PI / 4, aspect: 1 },
      50,
      50,
    );
    // Turned 45 degrees, a corner lies on the x axis at 10 sqrt 2; (12, 0) is inside, nearest to
    // the two edges meeting there at 45 degrees to the axis.
    expect(rotated.distance(12, 0)).toBeCloseTo(-(10 * Math.SQRT2 - 12) / Math.SQRT2, 10);
    expect(rotated.distance(10 * Math.SQRT2 + 3, 0)).toBeCloseTo(3, 10);
  });
});

describe('resolveSyntheticConfig', () => {
  it('fills defaults', () => {
    const c = resolveSyntheticConfig({});
    expect([c.width, c.height, c.length, c.seed, c.categories.length]).toEqual([128, 128, 1000, 0, 8]);
  });

  it('names the bad field', () => {
    const bad: [SyntheticConfig, RegExp][] = [
      [{ imageSize: 4 }, /data\.imageSize: expected an integer in \[8, 4096\], got 4/],
      [{ categories: ['star', 'blob' as ShapeName] }, /data\.categories: unknown name "blob"/],
      [{ targets: ['star'], categories: ['circle', 'ring'] }, /data\.targets: target star is not among the categories/],
      [{ distractors: [3, 1] }, /data\.distractors: expected \[min, max\]/],
      [{ camouflage: 2 }, /data\.camouflage: expected a number in \[0, 1\], got 2/],
      [{ multiTarget: 'some' as 'all' }, /data\.multiTarget: expected 'all' or 'one'/],
      [{ seed: 1.5 }, /data\.seed: expected a safe integer/],
      [{ textures: [] }, /data\.textures: expected a non-empty list/],
    ];
    for (const [cfg, re] of bad) expect(() => resolveSyntheticConfig(cfg, 'data')).toThrow(re);
    expect(() => new SyntheticDataset({ length: 3 }).sample(3)).toThrow(/index 3 out of range \[0, 3\)/);
  });
});
