/**
 * Seeded weight initialisers. Orthogonal initialisation follows Saxe et al. (2014) as PyTorch's
 * `nn.init.orthogonal_` applies it: the weight viewed as [fanOut, rest] is filled with the Q factor
 * (positive-diagonal R convention) of a Gaussian matrix, times a gain. PPO implementations use gain
 * sqrt(2) for hidden layers, 0.01 for the policy head and 1 for the value head.
 */
import { Rng } from '../utils/rng';

/**
 * A rows x cols matrix (row-major, Float64) with orthonormal rows when rows <= cols, orthonormal
 * columns otherwise, scaled by `gain`.
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: Rng): Float64Array {
  if (!(rows > 0 && cols > 0 && Number.isInteger(rows) && Number.isInteger(cols))) {
    throw new Error(`orthogonalMatrix: sizes must be positive integers, got ${rows}x${cols}`);
  }
  // Work on a tall n x k matrix (n >= k) whose columns become orthonormal.
  const transposed = rows < cols;
  const n = transposed ? cols : rows;
  const k = transposed ? rows : cols;
  const cols2d: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = rng.normal();
    cols2d.push(v);
  }
  // Modified Gram-Schmidt with one re-orthogonalisation pass ("twice is enough"); the resulting
  // R has a positive diagonal, which is the sign convention PyTorch enforces after its QR.
  for (let j = 0; j < k; j++) {
    const v = cols2d[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        const q = cols2d[p];
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new Error('orthogonalMatrix: degenerate Gaussian draw');
    for (let i = 0; i < n; i++) v[i] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // Tall case: out[r][c] = Q[r][c] = cols2d[c][r]; wide case: out = Q^T, out[r][c] = cols2d[r][c].
      out[r * cols + c] = gain * (transposed ? cols2d[r][c] : cols2d[c][r]);
    }
  }
  return out;
}

/** Orthogonal dense weight in tfjs layout [in, out] (PyTorch's [out, in] transposed). */
export function orthogonalDense(inDim: number, outDim: number, gain: number, rng: Rng): Float32Array {
  const m = orthogonalMatrix(outDim, inDim, gain, rng);
  const w = new Float32Array(inDim * outDim);
  for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) w[i * outDim + o] = m[o * inDim + i];
  return w;
}

/**
 * Orthogonal conv filter in tfjs layout [kh, kw, in, out], drawn as PyTorch draws a
 * [out, in, kh, kw] weight (viewed as [out, in * kh * kw]).
 */
export function orthogonalConv(
  kh: number,
  kw: number,
  inCh: number,
  outCh: number,
  gain: number,
  rng: Rng,
): Float32Array {
  const fan = inCh * kh * kw;
  const m = orthogonalMatrix(outCh, fan, gain, rng);
  const w = new Float32Array(kh * kw * inCh * outCh);
  for (let o = 0; o < outCh; o++) {
    for (let i = 0; i < inCh; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          w[((y * kw + x) * inCh + i) * outCh + o] = m[o * fan + (i * kh + y) * kw + x];
        }
      }
    }
  }
  return w;
}
