import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { TensorRecord, toFloat32 } from '../../src/io/tensor-record';
import { CheckpointWeights, inferSamPreset, readSamCheckpoint } from '../../src/sam/weights/checkpoint';
import { loadSam } from '../../src/sam/pretrained';
import { samConfigFromJson } from '../../src/sam/config';
import { toHuggingFaceNames } from '../../src/sam/weights/weight-names';
import { decodeOnce } from './decode-once';
import { FIXTURES_DIR } from './fixture';

const tinyDir = path.join(FIXTURES_DIR, 'tiny');
const tinyConfig = () => samConfigFromJson(JSON.parse(fs.readFileSync(path.join(tinyDir, 'config.json'), 'utf8')));
let tmp: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sam-ckpt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function tinyRecord(): Promise<TensorRecord> {
  return (await readSafetensors(path.join(tinyDir, 'weights.safetensors'))).tensors;
}

async function decodeFile(file: string): Promise<Float32Array> {
  const sam = await loadSam(file, { config: tinyConfig() });
  try {
    return decodeOnce(sam);
  } finally {
    sam.dispose();
  }
}

test('a checkpoint is read one tensor at a time under official names: the weights readSamCheckpoint reads', async () => {
  for (const file of ['weights.safetensors', 'weights.pth']) {
    const record = await readSamCheckpoint(path.join(tinyDir, file));
    const weights = await CheckpointWeights.open(path.join(tinyDir, file));
    try {
      expect([...weights.keys()]).toEqual([...record.keys()]);
      expect([...weights.shapes]).toEqual([...record].map(([name, t]) => [name, { shape: t.shape }]));
      for (const [name, t] of record) {
        const w = weights.get(name)!;
        expect(w.shape).toEqual(t.shape);
        expect(w.data).toEqual(toFloat32(t));
        // An array of its own: nothing else of the file is kept alive by it.
        expect(w.data.buffer.byteLength).toBe(w.data.byteLength);
      }
      expect(weights.has('image_encoder.nope')).toBe(false);
      expect(weights.get('image_encoder.nope')).toBeUndefined();
    } finally {
      await weights.close();
    }
  }
});

test('safetensors and pth checkpoints load the same weights', async () => {
  const a = await readSamCheckpoint(path.join(tinyDir, 'weights.safetensors'));
  const b = await readSamCheckpoint(path.join(tinyDir, 'weights.pth'));
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, t] of a)
    expect(Buffer.from(b.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
});

test('a checkpoint with Hugging Face SamModel names loads onto the same modules', async () => {
  const hfFile = path.join(tmp, 'hf.safetensors');
  await writeSafetensors(hfFile, toHuggingFaceNames(await tinyRecord()));
  const hfNames = [...(await readSafetensors(hfFile)).tensors.keys()];
  expect(hfNames.some((n) => n.startsWith('vision_encoder.layers.'))).toBe(true);
  const official = await decodeFile(path.join(tinyDir, 'weights.safetensors'));
  const hf = await decodeFile(hfFile);
  expect(Array.from(hf)).toEqual(Array.from(official));
});

test('a mis-shaped tensor fails naming the tensor and both shapes, and creates no tensors', async () => {
  const record = await tinyRecord();
  const name = 'mask_decoder.transformer.layers.0.mlp.lin1.weight';
  const t = record.get(name)!;
  record.set(name, { dtype: 'float32', shape: [t.shape[1], t.shape[0]], data: t.data });
  const file = path.join(tmp, 'bad-shape.safetensors');
  await writeSafetensors(file, record);
  const before = tf.memory().numTensors;
  await expect(loadSam(file, { config: tinyConfig() })).rejects.toThrow(
    new RegExp(
      `${name.replace(/\./g, '\\.')}' has shape \\[${t.shape[1]},${t.shape[0]}\\], expected \\[${t.shape[0]},${t.shape[1]}\\]`,
    ),
  );
  expect(tf.memory().numTensors).toBe(before);
});

test('a missing tensor and an unexpected tensor are both reported by name', async () => {
  const record = await tinyRecord();
  record.delete('prompt_encoder.no_mask_embed.weight');
  record.set('image_encoder.blocks.9.norm1.weight', { dtype: 'float32', shape: [32], data: new Float32Array(32) });
  const file = path.join(tmp, 'missing.safetensors');
  await writeSafetensors(file, record);
  const err = await loadSam(file, { config: tinyConfig() }).catch((e: Error) => e);
  expect(String(err)).toContain("missing tensor 'prompt_encoder.no_mask_embed.weight'");
  expect(String(err)).toContain("unexpected tensor 'image_encoder.blocks.9.norm1.weight'");
  expect(String(err)).toContain(file);
});

test('a missing file is a clear error', async () => {
  await expect(loadSam(path.join(tmp, 'nope.pth'))).rejects.toThrow(/not found.*nope\.pth/);
});

test('without a config, the preset is inferred from the weights or a config.json beside them', async () => {
  const rec = await tinyRecord();
  expect(inferSamPreset(rec)).toBeNull();
  const fake: TensorRecord = new Map([
    ['image_encoder.patch_embed.proj.weight', { dtype: 'float32', shape: [768, 3, 16, 16], data: new Float32Array(0) }],
  ]);
  for (let i = 0; i < 12; i++)
    fake.set(`image_encoder.blocks.${i}.norm1.weight`, { dtype: 'float32', shape: [768], data: new Float32Array(0) });
  expect(inferSamPreset(fake)).toBe('vit_b');
  const sam = await loadSam(path.join(tinyDir, 'weights.safetensors'));
  expect(sam.config.imageEncoder.imgSize).toBe(64);
  expect(sam.weightsId).toMatch(/^[0-9a-f]{64}$/);
  sam.dispose();
});
