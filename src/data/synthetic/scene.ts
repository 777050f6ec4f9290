/**
 * Synthetic scenes: a textured background and textured shapes drawn in order, later ones over
 * earlier ones. A scene is plain data (SceneSpec) sampled from an Rng, then rendered; the renderer
 * also returns which object owns each pixel, from which the target mask is exact.
 */
import type { Rng } from '../../utils/rng';
import type { RgbImage } from '../types';
import { makeShape, type ShapeName, type ShapePlacement } from './shapes';
import {
  camouflageOf,
  colorDistance,
  compileTexture,
  meanColor,
  randomTexture,
  type TextureKind,
  type TextureSpec,
} from './textures';

// Aliases, not `Math.x`: under jest (a vm context) each global lookup in a hot loop costs ~100x.
const { ceil, floor, max, min, round, sqrt } = Math;

export interface SceneObject {
  placement: ShapePlacement;
  texture: TextureSpec;
  /** Part of the target (all target instances, or the one chosen one). */
  isTarget: boolean;
  /** Of the target's category (true for every instance in 'multi' scenes, chosen or not). */
  isTargetCategory: boolean;
}

export interface SceneSpec {
  width: number;
  height: number;
  background: TextureSpec;
  /** In drawing order. */
  objects: SceneObject[];
  target: ShapeName;
  camouflage: boolean;
}

export interface SceneParams {
  width: number;
  height: number;
  categories: readonly ShapeName[];
  targets: readonly ShapeName[];
  textures: readonly TextureKind[];
  distractors: readonly [number, number];
  /** Outer radius as a fraction of the shorter image side. */
  sizeRange: readonly [number, number];
  /** Probability that a scene is camouflaged. */
  camouflage: number;
  camouflageContrast: number;
  /** Probability that a scene has several instances of the target category. */
  multi: number;
  multiCount: readonly [number, number];
  multiTarget: 'all' | 'one';
  /** Each target instance must keep at least this fraction of its own pixels visible. */
  minVisible: number;
  /** Least RGB distance between an object's mean colour and the background's (not camouflage). */
  minContrast: number;
}

export interface RenderedScene {
  image: RgbImage;
  /** Per pixel: 0 = background, k = objects[k - 1] is drawn there (on top). */
  owner: Uint8Array;
}

const MAX_LAYOUT_TRIES = 30;

function intIn(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo + rng.int(hi - lo + 1);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function contrastingTexture(rng: Rng, kinds: readonly TextureKind[], bg: TextureSpec, p: SceneParams): TextureSpec {
  const minSide = min(p.width, p.height);
  let tex = randomTexture(rng, pick(rng, kinds), minSide);
  for (let i = 0; i < 20 && colorDistance(meanColor(tex), meanColor(bg)) < p.minContrast; i++) {
    tex = randomTexture(rng, tex.kind, minSide);
  }
  return tex;
}

function randomPlacement(rng: Rng, shape: ShapeName, p: SceneParams): ShapePlacement {
  const minSide = min(p.width, p.height);
  const radius = rng.uniform(p.sizeRange[0], p.sizeRange[1]) * minSide;
  // Centres keep most of the shape inside the image.
  const margin = 0.6 * radius;
  return {
    shape,
    cx: rng.uniform(margin, max(margin, p.width - margin)),
    cy: rng.uniform(margin, max(margin, p.height - margin)),
    radius,
    rotation: rng.uniform(0, 2 * Math.PI),
    aspect: rng.uniform(0.45, 0.75),
  };
}

/**
 * One object's signed distances at the pixel centres of its bounds (row-major within them). Exact
 * where |distance| <= 1 (where anti-aliasing needs it); elsewhere a bound of the right sign.
 */
export interface ShapeRaster {
  bounds: [number, number, number, number];
  distance: Float32Array;
}

/** Distances of every object, computed once and shared by the visibility check and the renderer. */
export function rasterizeShapes(scene: SceneSpec): ShapeRaster[] {
  return scene.objects.map((o) => {
    const shape = makeShape(o.placement, scene.width, scene.height);
    const { cx, cy, radius } = o.placement;
    const inner = shape.innerRadius;
    const [x0, y0, x1, y1] = shape.bounds;
    const w = max(0, x1 - x0);
    const distance = new Float32Array(w * max(0, y1 - y0));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        // The shape lies within its outer circle and contains its inner one, so far from the
        // outline the distance from the centre bounds the shape's distance: no exact SDF needed.
        const ux = x + 0.5 - cx;
        const uy = y + 0.5 - cy;
        const rho = sqrt(ux * ux + uy * uy);
        let d: number;
        if (rho - radius > 1) d = rho - radius;
        else if (rho - inner < -1) d = rho - inner;
        else d = shape.distance(x + 0.5, y + 0.5);
        distance[(y - y0) * w + (x - x0)] = d;
      }
    }
    return { bounds: shape.bounds, distance };
  });
}

/** Samples a scene whose target instances are all visible enough (see minVisible). */
export function sampleScene(rng: Rng, p: SceneParams): SceneSpec {
  return generateScene(rng, p).scene;
}

/** sampleScene, also returning the rasters it computed (for renderScene). */
export function generateScene(rng: Rng, p: SceneParams): { scene: SceneSpec; rasters: ShapeRaster[] } {
  const minSide = min(p.width, p.height);
  const background = randomTexture(rng, pick(rng, p.textures), minSide);
  const target = pick(rng, p.targets);
  const camouflage = rng.random() < p.camouflage;
  const multi = rng.random() < p.multi;
  const nTargets = multi ? intIn(rng, p.multiCount) : 1;
  const chosen = multi && p.multiTarget === 'one' ? rng.int(nTargets) : -1;
  const others = p.categories.filter((c) => c !== target);
  const nDistractors = others.length > 0 ? intIn(rng, p.distractors) : 0;

  const objects: SceneObject[] = [];
  for (let i = 0; i < nTargets; i++) {
    const texture = camouflage
      ? camouflageOf(rng, background, p.camouflageContrast)
      : contrastingTexture(rng, p.textures, background, p);
    objects.push({
      placement: randomPlacement(rng, target, p),
      texture,
      isTarget: chosen < 0 || chosen === i,
      isTargetCategory: true,
    });
  }
  for (let i = 0; i < nDistractors; i++) {
    objects.push({
      placement: randomPlacement(rng, pick(rng, others), p),
      texture: contrastingTexture(rng, p.textures, background, p),
      isTarget: false,
      isTargetCategory: false,
    });
  }
  rng.shuffle(objects);
  const scene: SceneSpec = { width: p.width, height: p.height, background, objects, target, camouflage };

  // New positions until every target instance is visible enough; as a last resort the targets are
  // drawn last (then only other target instances can cover them).
  for (let tries = 0; tries < MAX_LAYOUT_TRIES; tries++) {
    const rasters = rasterizeShapes(scene);
    if (targetsVisible(scene, rasters, p.minVisible)) return { scene, rasters };
    for (const o of objects) o.placement = randomPlacement(rng, o.placement.shape, p);
  }
  scene.objects = [...objects.filter((o) => !o.isTarget), ...objects.filter((o) => o.isTarget)];
  return { scene, rasters: rasterizeShapes(scene) };
}

/** Whether every target object keeps at least `minVisible` of its own pixels (and at least one). */
function targetsVisible(scene: SceneSpec, rasters: ShapeRaster[], minVisible: number): boolean {
  const owner = ownership(scene, rasters);
  const visible = new Array<number>(scene.objects.length).fill(0);
  for (let i = 0; i < owner.length; i++) if (owner[i]) visible[owner[i] - 1]++;
  return scene.objects.every((o, k) => {
    if (!o.isTarget) return true;
    let own = 0;
    for (const d of rasters[k].distance) if (d < 0) own++;
    return own > 0 && visible[k] >= minVisible * own;
  });
}

/** Owner of each pixel (0 = background, k = objects[k - 1]) from pixel-centre tests alone. */
export function ownership(scene: SceneSpec, rasters = rasterizeShapes(scene)): Uint8Array {
  const { width, height } = scene;
  if (scene.objects.length > 255) throw new Error('a scene holds at most 255 objects');
  const owner = new Uint8Array(width * height);
  rasters.forEach(({ bounds: [x0, y0, x1, y1], distance }, k) => {
    const w = x1 - x0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) if (distance[(y - y0) * w + (x - x0)] < 0) owner[y * width + x] = k + 1;
    }
  });
  return owner;
}

/**
 * Draws the scene. With anti-aliasing, a shape's edge pixels blend its colour over what is below
 * by its coverage; a pixel's owner is the last shape covering more than half of it, i.e. whose
 * outline leaves the pixel centre inside, so ownership does not depend on anti-aliasing.
 */
export function renderScene(
  scene: SceneSpec,
  antialias: boolean,
  rasters: ShapeRaster[] = rasterizeShapes(scene),
): RenderedScene {
  const { width, height } = scene;
  if (scene.objects.length > 255) throw new Error('a scene holds at most 255 objects');
  const rgb = new Float64Array(width * height * 3);
  const owner = new Uint8Array(width * height);
  const bg = compileTexture(scene.background, width, height);
  for (let y = 0; y < height; y++) bg(y, 0, width, rgb, 3 * y * width);
  const row = new Float64Array(3 * width);
  scene.objects.forEach((o, k) => {
    const tex = compileTexture(o.texture, width, height);
    const {
      bounds: [x0, y0, x1, y1],
      distance,
    } = rasters[k];
    const w = x1 - x0;
    const { cx, cy, radius } = o.placement;
    for (let y = y0; y < y1; y++) {
      // Only the span of this row within the outer circle (plus the anti-aliased rim) can change.
      const dy = y + 0.5 - cy;
      const half = sqrt(max(0, (radius + 1) ** 2 - dy * dy));
      const xs = max(x0, floor(cx - half - 0.5));
      const xe = min(x1, ceil(cx + half + 0.5));
      if (xs >= xe) continue;
      tex(y, xs, xe, row, 3 * (xs - x0));
      for (let x = xs; x < xe; x++) {
        const d = distance[(y - y0) * w + (x - x0)];
        const p = y * width + x;
        if (d < 0) owner[p] = k + 1;
        const cover = antialias ? max(0, min(1, 0.5 - d)) : d < 0 ? 1 : 0;
        if (cover === 0) continue;
        const i = 3 * p;
        const j = 3 * (x - x0);
        rgb[i] += (row[j] - rgb[i]) * cover;
        rgb[i + 1] += (row[j + 1] - rgb[i + 1]) * cover;
        rgb[i + 2] += (row[j + 2] - rgb[i + 2]) * cover;
      }
    }
  });
  const data = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) data[i] = round(rgb[i]);
  return { image: { width, height, data }, owner };
}

/** The target mask of a rendered scene: pixels owned by a target object. */
export function targetMask(scene: SceneSpec, owner: Uint8Array): Uint8Array {
  const isTarget = new Uint8Array(scene.objects.length + 1);
  scene.objects.forEach((o, k) => {
    isTarget[k + 1] = o.isTarget ? 1 : 0;
  });
  const mask = new Uint8Array(owner.length);
  for (let i = 0; i < owner.length; i++) mask[i] = isTarget[owner[i]];
  return mask;
}
