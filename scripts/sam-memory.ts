/**
 * What one SAM preset costs in memory and time on a backend: build it (random weights for the
 * official ViT sizes, the shipped models/micro-sam for micro), encode one square image, and report
 * the build time, encoder seconds, peak RSS, the wasm heap's size and peak tensor bytes beside the
 * model's memory plan (src/sam/memory-plan.ts). Each preset runs in a process of its own, so that
 * its peak RSS is its own and a failure ends only that process.
 *
 *   npm run bench:sam -- --preset vit_h            (or all; see scripts/bench-sam.ts)
 *   ts-node --transpile-only scripts/sam-memory.ts --preset vit_h [--via safetensors [--checkpoint <file>]] [--image 1024]
 *   ts-node --transpile-only scripts/sam-memory.ts --preset vit_h --write-random <file>   (random weights as safetensors)
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { SAM_PRESETS, SamConfig, SamPresetName } from '../src/sam/config';
import { encodeImage } from '../src/sam/image-encoding';
import type { SamMemoryPlan } from '../src/sam/memory-plan';
import { SamModel } from '../src/sam/modeling/sam-model';
import { loadSam } from '../src/sam/pretrained';
import { RawWeights } from '../src/sam/weights/params';
import { randomSamWeights } from '../src/sam/weights/random-weights';
import { samWeightSpecs } from '../src/sam/weights/weight-spec';
import { simdKernels, simdKernelsRelaxed } from '../src/tfjs-ops/simd/simd-module';
import { Rng } from '../src/utils/rng';
import { measureHeapUse, trackHeapUse } from '../src/tfjs-ops/wasm-heap';
import { arg } from './cli-args';
import { writeRandomCheckpoint } from './perf/random-checkpoint';
import { peakRssBytes } from './perf/peak-rss';

export const MEMORY_PRESETS = ['vit_b', 'vit_l', 'vit_h', 'micro'] as const;
export type MemoryPreset = (typeof MEMORY_PRESETS)[number];

export interface PresetMemoryOptions {
  /** How the weights reach the model: built from arrays in memory, or loaded from a safetensors file. */
  via?: 'memory' | 'safetensors';
  /** Side of the square image encoded, in pixels; 0 measures the build alone. */
  image?: number;
  /**
   * With via 'safetensors': the checkpoint to load (a .safetensors or .pth file of the preset).
   * Default: random weights written to a temporary file first, by a process of their own when
   * measured in a child, so that the peak RSS is the loading's alone.
   */
  checkpoint?: string;
}

export interface PresetMemory {
  preset: MemoryPreset;
  backend: string;
  /** 'relaxed', 'plain' or 'off': which build of the project's SIMD kernels ran. */
  simdKernels: string;
  via: 'memory' | 'safetensors' | 'folder';
  parameters: number;
  /** Seconds to build the model from its weights (reading the file included where there is one). */
  loadSeconds: number | null;
  /** Seconds of one encoder pass (preprocessing included) on the calling thread. */
  encodeSeconds: number | null;
  peakRssBytes: number | null;
  /** The wasm heap's size after the pass: the most it held, since it never shrinks. */
  wasmHeapBytes: number | null;
  /** Bytes of tensor buffers after the build, and at their peak during the pass. */
  tensorBytesLoaded: number | null;
  tensorBytesPeak: number | null;
  plan: SamMemoryPlan | null;
  error: string | null;
}

function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : null;
}

const MICRO_SAM = path.join(__dirname, '../models/micro-sam');

/** Measure one preset in this process (its peak RSS is this process's). */
export async function measureInProcess(preset: MemoryPreset, options: PresetMemoryOptions = {}): Promise<PresetMemory> {
  const backend = await initBackend('wasm');
  const via = preset === 'micro' ? 'folder' : (options.via ?? 'memory');
  const result: PresetMemory = {
    preset,
    backend,
    simdKernels: simdKernels() ? (simdKernelsRelaxed() ? 'relaxed' : 'plain') : 'off',
    via,
    parameters: 0,
    loadSeconds: null,
    encodeSeconds: null,
    peakRssBytes: null,
    wasmHeapBytes: null,
    tensorBytesLoaded: null,
    tensorBytesPeak: null,
    plan: null,
    error: null,
  };
  let sam: SamModel | null = null;
  let tmpDir: string | null = null;
  try {
    let t: number;
    let tracker: ReturnType<typeof trackHeapUse>;
    if (preset === 'micro') {
      tracker = trackHeapUse();
      t = performance.now();
      sam = await loadSam(MICRO_SAM);
    } else {
      const config: SamConfig = SAM_PRESETS[preset as SamPresetName];
      if (via === 'safetensors') {
        let file = options.checkpoint;
        if (!file) {
          tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sam-memory-'));
          file = path.join(tmpDir, `${preset}.safetensors`);
          await writeRandomCheckpoint(config, file);
        }
        tracker = trackHeapUse();
        t = performance.now();
        sam = await loadSam(file, { config: preset as SamPresetName });
      } else {
        const weights: RawWeights = randomSamWeights(config, 0, { tile: 1 << 20 });
        tracker = trackHeapUse();
        t = performance.now();
        sam = SamModel.fromWeights(config, weights, { weightsId: `random-${preset}` });
      }
    }
    result.loadSeconds = (performance.now() - t) / 1000;
    result.plan = sam.memoryPlan;
    result.parameters = samWeightSpecs(sam.config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    result.tensorBytesLoaded = tracker.stop().retainedBytes;

    const side = Number(options.image ?? 1024);
    if (side > 0) {
      const rng = new Rng(1);
      const image = { width: side, height: side, data: new Uint8Array(side * side * 3).map(() => rng.int(256)) };
      const model = sam;
      t = performance.now();
      const use = measureHeapUse(() => encodeImage(model, image).dispose());
      result.encodeSeconds = (performance.now() - t) / 1000;
      result.tensorBytesPeak = result.tensorBytesLoaded + use.peakBytes;
    }
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    sam?.dispose();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  result.peakRssBytes = peakRssBytes();
  result.wasmHeapBytes = wasmHeapBytes();
  return result;
}

/**
 * Measure one preset in a child process of its own and return what it reports. The child inherits
 * the environment (ALIGNSAM_SIMD_KERNELS=0 measures the tf-op forms).
 */
export async function measurePresetMemory(
  preset: MemoryPreset,
  options: PresetMemoryOptions = {},
): Promise<PresetMemory> {
  const run = (extra: string[]) =>
    new Promise<string>((resolve, reject) => {
      const args = ['-r', 'ts-node/register/transpile-only', __filename, '--preset', preset, ...extra];
      execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        if (err && !stdout.trim()) reject(new Error(`sam-memory ${preset}: ${err.message} ${stderr.slice(-2000)}`));
        else resolve(stdout.trim().split('\n').pop() ?? '');
      });
    });
  const args = ['--json'];
  if (options.via) args.push('--via', options.via);
  if (options.image !== undefined) args.push('--image', String(options.image));
  let tmpDir: string | null = null;
  try {
    if (options.via === 'safetensors' && preset !== 'micro') {
      let file = options.checkpoint;
      if (!file) {
        tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sam-memory-'));
        file = path.join(tmpDir, `${preset}.safetensors`);
        await run(['--write-random', file]);
      }
      args.push('--checkpoint', file);
    }
    const line = await run(args);
    try {
      return JSON.parse(line) as PresetMemory;
    } catch {
      throw new Error(`sam-memory ${preset}: the child reported no result (${line})`);
    }
  } finally {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

const mib = (b: number | null) => (b === null ? '-' : `${(b / 2 ** 20).toFixed(0)} MiB`);

/** One line per measurement, for people. */
export function formatPresetMemory(m: PresetMemory): string {
  if (m.error) return `${m.preset}: ${m.error}`;
  const plan = m.plan
    ? `plan ${mib(m.plan.totalBytes)} (${m.plan.weightForm}: weights ${mib(m.plan.weightBytes)}, copies ${mib(m.plan.weightCopyBytes)}, activations ${mib(m.plan.activationBytes)}, allocator ${mib(m.plan.allocatorBytes)})`
    : 'no plan';
  return (
    `${m.preset} (${(m.parameters / 1e6).toFixed(1)} M parameters, kernels ${m.simdKernels}, via ${m.via}): ` +
    `load ${m.loadSeconds?.toFixed(1) ?? '-'} s, encode ${m.encodeSeconds?.toFixed(1) ?? '-'} s/image, peak RSS ${mib(m.peakRssBytes)}, ` +
    `wasm heap ${mib(m.wasmHeapBytes)}, tensors ${mib(m.tensorBytesLoaded)} loaded / ${mib(m.tensorBytesPeak)} peak; ${plan}`
  );
}

async function main(): Promise<void> {
  const preset = arg('preset', '') as MemoryPreset;
  if (!MEMORY_PRESETS.includes(preset))
    throw new Error(`sam-memory: --preset must be one of ${MEMORY_PRESETS.join(', ')}`);
  const writeTo = arg('write-random', '');
  if (writeTo) {
    if (preset === 'micro') throw new Error('sam-memory: --write-random takes one of the ViT presets');
    await writeRandomCheckpoint(SAM_PRESETS[preset], writeTo);
    return;
  }
  const via = arg('via', 'memory') as PresetMemoryOptions['via'];
  const checkpoint = arg('checkpoint', '') || undefined;
  const m = await measureInProcess(preset, { via, image: Number(arg('image', '1024')), checkpoint });
  console.log(process.argv.includes('--json') ? JSON.stringify(m) : formatPresetMemory(m));
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
