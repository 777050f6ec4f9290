import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { loadSam } from '../../src/sam/pretrained';
import { randomSamWeights } from '../../src/sam/weights/random-weights';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { SMALL_SAM as cfg } from './small-sam';

const MICRO = path.resolve(__dirname, '../../models/micro-sam');

beforeAll(async () => {
  await initBackend('cpu');
});

describe('SAM weights holding NaN or Inf', () => {
  it.each([NaN, Infinity, -Infinity])('%p in a tensor is refused, naming the tensor and the element', (bad) => {
    const weights = randomSamWeights(cfg, 3);
    const name = 'mask_decoder.iou_prediction_head.layers.0.weight';
    weights.get(name)!.data[5] = bad;
    expect(() => SamModel.fromWeights(cfg, weights, { source: 'w.safetensors' })).toThrow(
      `w.safetensors: checkpoint does not match SAM config 'c': tensor '${name}' holds ${bad} at element 5 (weights must be finite)`,
    );
  });

  it('finite weights load', () => {
    const sam = SamModel.fromWeights(cfg, randomSamWeights(cfg, 3));
    sam.dispose();
  });

  it('loadSam of a checkpoint file with a NaN names the file and the tensor', async () => {
    const { tensors } = await readSafetensors(path.join(MICRO, 'weights.safetensors'));
    const [name, t] = [...tensors].find(([n]) => n.includes('image_encoder'))!;
    const data = Float32Array.from(t.data as Float32Array);
    data[0] = NaN;
    tensors.set(name, { ...t, dtype: 'float32', data });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sam-nan-'));
    try {
      const file = path.join(dir, 'weights.safetensors');
      await writeSafetensors(file, tensors);
      fs.copyFileSync(path.join(MICRO, 'config.json'), path.join(dir, 'config.json'));
      await expect(loadSam(file)).rejects.toThrow(
        new RegExp(
          `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*tensor '${name.replace(/\./g, '\\.')}' holds NaN at element 0`,
        ),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
