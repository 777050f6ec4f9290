/**
 * fromPretrained: a model folder (config.json and one weights file) or a weights file; which file
 * a folder's model is read from, and errors that name the path when something is missing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { fromPretrained, loadSam, resolvePretrained } from '../../src/sam/pretrained';
import { fileSha256 } from '../../src/sam/weights/checkpoint';
import { samConfigFromJson } from '../../src/sam/config';
import { decodeOnce } from './decode-once';
import { FIXTURES_DIR } from './fixture';

const MICRO = path.resolve(__dirname, '../../models/micro-sam');
const TINY = path.join(FIXTURES_DIR, 'tiny');
let tmp: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sam-pretrained-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A model folder under tmp holding copies of the given tiny-fixture files (renamed as given). */
function tinyFolder(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const [from, to] of Object.entries(files)) fs.copyFileSync(path.join(TINY, from), path.join(dir, to));
  return dir;
}

async function fingerprint(
  dirOrFile: string,
  options = {},
): Promise<{ logits: Float32Array; weightsId: string; name: string }> {
  const sam = await fromPretrained(dirOrFile, options);
  try {
    return { logits: decodeOnce(sam), weightsId: sam.weightsId, name: sam.config.name };
  } finally {
    sam.dispose();
  }
}

describe('fromPretrained', () => {
  test('models/micro-sam as a folder is the same model as its weights file', async () => {
    const fromDir = await fingerprint(MICRO);
    const fromFile = await fingerprint(path.join(MICRO, 'weights.safetensors'));
    expect(fromDir.name).toBe('micro_sam');
    expect(fromDir.weightsId).toBe(await fileSha256(path.join(MICRO, 'weights.safetensors')));
    expect(fromDir.weightsId).toBe(fromFile.weightsId);
    expect(Array.from(fromDir.logits)).toEqual(Array.from(fromFile.logits));
  });

  test('loadSam is the same loader', async () => {
    expect(loadSam).toBe(fromPretrained);
  });

  test('a folder with safetensors and .pth weights reads the safetensors; one with .pth only reads that', async () => {
    const both = tinyFolder('both', {
      'config.json': 'config.json',
      'weights.safetensors': 'model.safetensors',
      'weights.pth': 'model.pth',
    });
    expect(resolvePretrained(both)).toEqual({
      weights: path.join(both, 'model.safetensors'),
      config: path.join(both, 'config.json'),
    });
    const pth = tinyFolder('pth-only', { 'config.json': 'config.json', 'weights.pth': 'sam_tiny.pth' });
    expect(resolvePretrained(pth).weights).toBe(path.join(pth, 'sam_tiny.pth'));
    const a = await fingerprint(both);
    const b = await fingerprint(pth);
    expect(a.weightsId).toBe(await fileSha256(path.join(TINY, 'weights.safetensors')));
    expect(b.weightsId).toBe(await fileSha256(path.join(TINY, 'weights.pth')));
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
  });

  test('a missing path, a folder without weights and a folder with two candidates are errors naming the path', async () => {
    const missing = path.join(tmp, 'no-such-model');
    await expect(fromPretrained(missing)).rejects.toThrow(`SAM model not found: ${missing}`);
    const empty = tinyFolder('config-only', { 'config.json': 'config.json' });
    await expect(fromPretrained(empty)).rejects.toThrow(
      `${empty}: no SAM weights in this folder (expected a .safetensors or .pth file beside config.json)`,
    );
    const two = tinyFolder('two', { 'config.json': 'config.json', 'weights.safetensors': 'a.safetensors' });
    fs.copyFileSync(path.join(TINY, 'weights.safetensors'), path.join(two, 'b.safetensors'));
    await expect(fromPretrained(two)).rejects.toThrow(
      `${two}: holds several .safetensors files (a.safetensors, b.safetensors)`,
    );
  });

  test('weights whose config cannot be inferred, with no config.json, are an error naming the file', async () => {
    const bare = tinyFolder('bare', { 'weights.safetensors': 'weights.safetensors' });
    const weights = path.join(bare, 'weights.safetensors');
    await expect(fromPretrained(bare)).rejects.toThrow(
      `${weights}: cannot infer the SAM config from the weights and no config.json is beside them`,
    );
    const config = samConfigFromJson(JSON.parse(fs.readFileSync(path.join(TINY, 'config.json'), 'utf8')));
    expect((await fingerprint(bare, { config })).weightsId).toBe(await fileSha256(weights));
  });

  test("a broken config.json is reported by path before the weights are read, and the caller's config takes precedence", async () => {
    const dir = path.join(tmp, 'broken-config');
    fs.mkdirSync(dir);
    const configPath = path.join(dir, 'config.json');
    fs.writeFileSync(
      configPath,
      JSON.stringify({ image_encoder: {}, prompt_encoder: {}, mask_decoder: { transformer: {} } }),
    );
    fs.writeFileSync(path.join(dir, 'weights.safetensors'), 'not a checkpoint');
    const before = tf.memory().numTensors;
    await expect(fromPretrained(dir)).rejects.toThrow(
      `${configPath}: SAM config: 'image_encoder.img_size' must be a number`,
    );
    expect(tf.memory().numTensors).toBe(before);
    fs.copyFileSync(path.join(TINY, 'weights.safetensors'), path.join(dir, 'weights.safetensors'));
    expect((await fingerprint(dir, { config: path.join(TINY, 'config.json') })).name).toBe('tiny');
  });
});
