/** Access to the official-implementation parity fixtures in ../shared/fixtures/sam. */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../../src/io/safetensors';
import { TensorRecord, toFloat32 } from '../../src/io/tensor-record';

export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/fixtures/sam');

export interface FixtureTensor {
  shape: number[];
  data: Float32Array;
}

export class SamFixture {
  constructor(
    readonly dir: string,
    readonly cases: any,
    readonly config: any,
    private readonly tensors: TensorRecord,
  ) {}

  static async load(model: string): Promise<SamFixture> {
    const dir = path.join(FIXTURES_DIR, model);
    const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const { tensors } = await readSafetensors(path.join(dir, cases.tensors_file));
    return new SamFixture(dir, cases, config, tensors);
  }

  has(name: string | undefined): boolean {
    return !!name && this.tensors.has(name);
  }

  raw(name: string) {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`fixture tensor '${name}' not found`);
    return t;
  }

  f32(name: string): FixtureTensor {
    const t = this.raw(name);
    return { shape: t.shape, data: toFloat32(t, name) };
  }

  /** A stored NCHW tensor [1, C, H, W] as channels-last [H, W, C] values. */
  nchwToHwc(name: string): Float32Array {
    const t = this.f32(name);
    return tf.tidy(() => tf.tensor(t.data, t.shape).squeeze([0]).transpose([1, 2, 0]).dataSync() as Float32Array);
  }
}

/** The tolerance: max|a - b| <= 1e-3 * max|ref| + 1e-5. */
export function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
  if (got.length !== ref.length) throw new Error(`${name}: ${got.length} values, reference has ${ref.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const tol = 1e-3 * maxRef + 1e-5;
  if (!(maxDiff <= tol))
    throw new Error(
      `${name}: max |diff| ${maxDiff.toExponential(3)} exceeds ${tol.toExponential(3)} (max |ref| ${maxRef})`,
    );
}

/** Fraction of pixels where (got > 0) == (ref > 0). */
export function binaryAgreement(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < ref.length; i++) if (got[i] > 0 === ref[i] > 0) same++;
  return same / ref.length;
}
