/**
 * Bilinear resampling of 8-bit images with the same arithmetic as Pillow's `Image.resize(...,
 * BILINEAR)`: a triangle filter whose support widens with the downscale factor (antialiasing),
 * separable passes (horizontal, then vertical) with 22-bit fixed-point coefficients and rounding to
 * 8 bits after each pass. SAM's reference preprocessing resizes through torchvision on PIL images,
 * so matching this bit for bit is what makes our encoder input equal the reference's.
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

interface Coefficients {
  /** Kernel width per output sample. */
  ksize: number;
  /** [outSize * 2]: first input index and count per output sample. */
  bounds: Int32Array;
  /** [outSize * ksize] fixed-point weights. */
  weights: Int32Array;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

function precompute(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const inv = 1 / filterScale;
    // C's (int) cast truncates toward zero; the clamp at 0 makes that equal to floor here.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * inv);
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && total !== 0 ? k[x] / total : 0;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/**
 * Resize an interleaved 8-bit image (HWC, `channels` per pixel) to outW x outH.
 * Returns the input unchanged (same array) when the size already matches, as Pillow does.
 */
export function resizeBilinearPil(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
): Uint8Array {
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `resizeBilinearPil: expected ${width}x${height}x${channels} = ${width * height * channels} bytes, got ${pixels.length}`,
    );
  }
  if (!(outW > 0 && outH > 0)) throw new Error(`resizeBilinearPil: output size must be positive, got ${outW}x${outH}`);
  if (outW === width && outH === height) return pixels;
  let src = pixels;
  let srcW = width;
  let srcH = height;
  const vert = outH !== height ? precompute(height, outH) : null;
  if (outW !== width) {
    // Only the rows the vertical pass will read are resampled horizontally.
    const first = vert ? vert.bounds[0] : 0;
    const last = vert ? vert.bounds[(outH - 1) * 2] + vert.bounds[(outH - 1) * 2 + 1] : height;
    const rows = last - first;
    const { ksize, bounds, weights } = precompute(width, outW);
    const out = new Uint8Array(outW * rows * channels);
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + first) * width * channels;
      const rowOut = y * outW * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const n = bounds[xx * 2 + 1];
        const kOff = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let acc = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < n; x++) acc += src[rowIn + (xmin + x) * channels + c] * weights[kOff + x];
          out[rowOut + xx * channels + c] = clip8(acc);
        }
      }
    }
    if (vert) for (let i = 0; i < outH; i++) vert.bounds[i * 2] -= first;
    src = out;
    srcW = outW;
    srcH = rows;
  }
  if (!vert) return src;
  const { ksize, bounds, weights } = vert;
  const out = new Uint8Array(srcW * outH * channels);
  const stride = srcW * channels;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2];
    const n = bounds[yy * 2 + 1];
    const kOff = yy * ksize;
    for (let i = 0; i < stride; i++) {
      let acc = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < n; y++) acc += src[(ymin + y) * stride + i] * weights[kOff + y];
      out[yy * stride + i] = clip8(acc);
    }
  }
  void srcH;
  return out;
}
