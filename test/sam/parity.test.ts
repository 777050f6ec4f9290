/**
 * Parity with the official segment-anything implementation on the shared fixtures: every stored
 * tensor within max|a-b| <= 1e-3 max|ref| + 1e-5, binary masks agreeing on >= 99.5% of pixels, and
 * the resize within 0.5 grey levels (mean absolute difference) of PIL's.
 */
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { samConfigFromJson } from '../../src/sam/config';
import { loadSam } from '../../src/sam/pretrained';
import { SamFixture } from './fixture';
import { checkModel } from './parity-check';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('parity with the official implementation', () => {
  test('tiny from weights.safetensors: every stage, every case', async () => {
    const fx = await SamFixture.load('tiny');
    const sam = await loadSam(path.join(fx.dir, 'weights.safetensors'), { config: samConfigFromJson(fx.config) });
    await checkModel(fx, sam);
    sam.dispose();
  });

  test('tiny from weights.pth (restricted unpickler): every case', async () => {
    const fx = await SamFixture.load('tiny');
    const sam = await loadSam(path.join(fx.dir, 'weights.pth'), { config: samConfigFromJson(fx.config) });
    await checkModel(fx, sam);
    sam.dispose();
  });

  test('vitb2 (real ViT-B geometry, full-size decoder) from weights.safetensors', async () => {
    const fx = await SamFixture.load('vitb2');
    const sam = await loadSam(path.join(fx.dir, 'weights.safetensors'));
    await checkModel(fx, sam);
    sam.dispose();
  }, 300000);
});
