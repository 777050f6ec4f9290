import { orthogonalConv, orthogonalDense, orthogonalMatrix } from '../../src/nn/init';
import { Rng } from '../../src/utils/rng';

describe('orthogonal init', () => {
  it('gives orthonormal rows (wide) or columns (tall) times the gain, reproducibly', () => {
    for (const [r, c] of [
      [4, 9],
      [9, 4],
      [6, 6],
    ]) {
      const m = orthogonalMatrix(r, c, 2, new Rng(1));
      const k = Math.min(r, c);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let dot = 0;
          for (let t = 0; t < Math.max(r, c); t++) {
            dot += r < c ? m[i * c + t] * m[j * c + t] : m[t * c + i] * m[t * c + j];
          }
          expect(Math.abs(dot - (i === j ? 4 : 0))).toBeLessThan(1e-9);
        }
      }
      expect(Array.from(orthogonalMatrix(r, c, 2, new Rng(1)))).toEqual(Array.from(m));
      expect(Array.from(orthogonalMatrix(r, c, 2, new Rng(2)))).not.toEqual(Array.from(m));
    }
  });

  it('lays out dense [in, out] and conv [kh, kw, in, out] weights so that the PyTorch view is orthogonal', () => {
    const d = orthogonalDense(10, 3, 1, new Rng(5));
    // Columns of [in, out] are PyTorch's rows: orthonormal.
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        let dot = 0;
        for (let i = 0; i < 10; i++) dot += d[i * 3 + a] * d[i * 3 + b];
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-6);
      }
    const w = orthogonalConv(3, 3, 4, 5, 1, new Rng(5));
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 5; b++) {
        let dot = 0;
        for (let t = 0; t < 36; t++) dot += w[t * 5 + a] * w[t * 5 + b];
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-6);
      }
  });
});
