/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled
 * Functions", 2012): the squared distance to the nearest background pixel is computed by a 1-D
 * lower envelope of parabolas along every column and then every row, O(H W) in all.
 */

/** A stand-in for infinity that keeps the envelope arithmetic finite (as in the paper's code). */
const FAR = 1e20;

/**
 * 1-D squared distance transform of a sampled function: d[q] = min_p (q - p)^2 + f[p], over
 * `n` samples of `f` read at `f[offset + q * stride]`, written to `out` likewise. `v`, `z` are
 * scratch buffers of n and n + 1 elements.
 */
function transform1D(
  f: Float64Array,
  out: Float64Array,
  offset: number,
  stride: number,
  n: number,
  v: Int32Array,
  z: Float64Array,
  tmp: Float64Array,
): void {
  for (let q = 0; q < n; q++) tmp[q] = f[offset + q * stride];
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    // z[0] = -inf, so the loop always stops at k = 0: parabola q then covers everything left of it
    let s = (tmp[q] + q * q - (tmp[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    while (s <= z[k]) {
      k--;
      s = (tmp[q] + q * q - (tmp[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const d = q - v[k];
    out[offset + q * stride] = d * d + tmp[v[k]];
  }
}

export interface DistanceTransformOptions {
  /**
   * Treat the outside of the image as background (default true): pixels on the image edge are at
   * distance 1, as with the 1-pixel zero padding of RITM's click simulator. When false, only
   * background pixels inside the image count, and a mask with no background gets Infinity.
   */
  imageBorderIsBackground?: boolean;
}

/**
 * Euclidean distance from every foreground pixel (non-zero in `mask`, H x W row-major) to the
 * nearest background pixel; 0 on background. Exact (not a chamfer approximation).
 */
export function distanceTransform(
  mask: ArrayLike<number>,
  height: number,
  width: number,
  options: DistanceTransformOptions = {},
): Float32Array {
  if (mask.length !== height * width)
    throw new Error(`distanceTransform: mask has ${mask.length} pixels, ${height} x ${width} expected`);
  const pad = (options.imageBorderIsBackground ?? true) ? 1 : 0;
  const H = height + 2 * pad;
  const W = width + 2 * pad;
  const f = new Float64Array(H * W); // padding stays 0 (background)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[(y + pad) * W + x + pad] = mask[y * width + x] !== 0 ? FAR : 0;
  }
  const n = Math.max(H, W);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const tmp = new Float64Array(n);
  const cols = new Float64Array(H * W);
  for (let x = 0; x < W; x++) transform1D(f, cols, x, W, H, v, z, tmp);
  const sq = new Float64Array(H * W);
  for (let y = 0; y < H; y++) transform1D(cols, sq, y * W, 1, W, v, z, tmp);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d2 = sq[(y + pad) * W + x + pad];
      out[y * width + x] = d2 >= FAR / 2 ? Infinity : Math.sqrt(d2);
    }
  }
  return out;
}
