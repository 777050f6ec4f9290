/**
 * Parity with the SIMD kernels turned off (ALIGNSAM_SIMD_KERNELS=0): the tf-op forms every kernel
 * falls back to, as on an engine without wasm SIMD. Same fixtures and tolerances as parity.test.ts.
 */
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { samConfigFromJson } from '../../src/sam/config';
import { loadSam } from '../../src/sam/pretrained';
import { simdKernels } from '../../src/tfjs-ops/simd/simd-module';
import { SamFixture } from './fixture';
import { checkModel } from './parity-check';

beforeAll(async () => {
  // Each jest test file has its own module registry, so the kernels were never loaded here.
  process.env.ALIGNSAM_SIMD_KERNELS = '0';
  await initBackend('wasm');
});

afterAll(() => {
  delete process.env.ALIGNSAM_SIMD_KERNELS;
});

test('tiny from weights.safetensors, every stage and case, with the tf-op forms only', async () => {
  expect(simdKernels()).toBeNull();
  const fx = await SamFixture.load('tiny');
  const sam = await loadSam(path.join(fx.dir, 'weights.safetensors'), { config: samConfigFromJson(fx.config) });
  await checkModel(fx, sam);
  sam.dispose();
});
