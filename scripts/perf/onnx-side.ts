/**
 * onnxruntime-node as a side of an interleaved benchmark, on a fixture's weights exported to ONNX
 * by scripts/reference/export_onnx.py (the official code's ONNX utilities). onnxruntime-node is a
 * benchmark reference, never a dependency of the library: it lives in scripts/perf/peers, installed
 * on first use with ONNXRUNTIME_NODE_INSTALL=skip (its install script would otherwise fetch CUDA
 * libraries).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import type { RgbImage } from '../../src/data/types';
import { lowResMaskSize, type SamConfig } from '../../src/sam/config';
import { applyCoords, normalizeAndPad, resizeImageLongestSide } from '../../src/sam/processing/transforms';
import type { Side } from './interleaved';
import { benchPoint } from './ours-sides';

const PEERS_DIR = path.join(__dirname, 'peers');
const EXPORT_SCRIPT = path.join(__dirname, '..', 'reference', 'export_onnx.py');

interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** What the benchmark uses of onnxruntime-node's API, and its version. */
export interface OnnxRuntime {
  version: string;
  InferenceSession: {
    create(file: string, options: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
}

/** onnxruntime-node from scripts/perf/peers, installed there first when it is not. */
export function loadOnnxRuntime(): OnnxRuntime {
  const peersRequire = createRequire(path.join(PEERS_DIR, 'package.json'));
  const installed = () => fs.existsSync(path.join(PEERS_DIR, 'node_modules', 'onnxruntime-node', 'package.json'));
  if (!installed()) {
    console.log(`installing onnxruntime-node into ${path.relative(process.cwd(), PEERS_DIR)} (CPU only)`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
      cwd: PEERS_DIR,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      encoding: 'utf8',
    });
    if (r.status !== 0 || !installed())
      throw new Error(
        `npm ci in ${PEERS_DIR} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
      );
  }
  const { version } = peersRequire('onnxruntime-node/package.json') as { version: string };
  return { ...(peersRequire('onnxruntime-node') as Omit<OnnxRuntime, 'version'>), version };
}

/**
 * The fixture's encoder.onnx and decoder.onnx in `outDir`, exported when absent or older than the
 * weights. Returns the folder.
 */
export function exportedOnnx(python: string, samRepo: string, fixture: string, outDir: string): string {
  const weights = fs.statSync(path.join(fixture, 'weights.safetensors')).mtimeMs;
  const fresh = ['encoder.onnx', 'decoder.onnx'].every((f) => {
    const file = path.join(outDir, f);
    return fs.existsSync(file) && fs.statSync(file).mtimeMs >= weights;
  });
  if (fresh) return outDir;
  console.log(`exporting ${path.basename(fixture)} to ONNX in ${path.relative(process.cwd(), outDir)}`);
  const r = spawnSync(python, [EXPORT_SCRIPT, '--sam-repo', samRepo, '--fixture', fixture, '--out', outDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (r.status !== 0)
    throw new Error(`the ONNX export failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return outDir;
}

/** The encoder input as the ONNX graph takes it: the project's preprocessing, as 1 x 3 x S x S. */
function encoderInput(image: RgbImage, config: SamConfig): Float32Array {
  const s = config.imageEncoder.imgSize;
  const resized = resizeImageLongestSide(image.data, { height: image.height, width: image.width }, s);
  const hwc = normalizeAndPad(resized.pixels, resized.size, s, config.pixelMean, config.pixelStd);
  const chw = new Float32Array(hwc.length);
  const plane = s * s;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) chw[c * plane + i] = hwc[i * 3 + c];
  return chw;
}

/** onnxruntime-node with `threads` intra-op threads; the encoder time includes the preprocessing. */
export async function onnxSide(
  ort: OnnxRuntime,
  dir: string,
  config: SamConfig,
  image: RgbImage,
  threads: number,
  id: string,
): Promise<Side> {
  const options = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 };
  const encoder = await ort.InferenceSession.create(path.join(dir, 'encoder.onnx'), options);
  const decoder = await ort.InferenceSession.create(path.join(dir, 'decoder.onnx'), options);
  const s = config.imageEncoder.imgSize;
  const point = applyCoords(benchPoint(image), { height: image.height, width: image.width }, s);
  const lowRes = lowResMaskSize(config);
  const prompt = {
    // The official ONNX example's prompt without a box: the point and a padding point labelled -1.
    point_coords: new ort.Tensor('float32', new Float32Array([point[0], point[1], 0, 0]), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', new Float32Array([1, -1]), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(lowRes * lowRes), [1, 1, lowRes, lowRes]),
    has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
  };
  let embedding: OrtTensor | null = null;
  const encode = async () => {
    const input = new ort.Tensor('float32', encoderInput(image, config), [1, 3, s, s]);
    embedding = (await encoder.run({ image: input })).image_embeddings;
  };
  await encode();
  return {
    id,
    label: `onnxruntime-node ${ort.version} (${threads} thread${threads > 1 ? 's' : ''})`,
    threads,
    async encoder() {
      const t = performance.now();
      await encode();
      return performance.now() - t;
    },
    async decoder(calls) {
      const out: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await decoder.run({ image_embeddings: embedding!, ...prompt });
        out.push(performance.now() - t);
      }
      return out;
    },
    async close() {
      await encoder.release();
      await decoder.release();
    },
  };
}
