import * as fs from 'fs';
import * as path from 'path';
import { SAM_PRESETS, samConfigFromJson, samConfigToJson } from '../../src/sam/config';
import { samWeightSpecs } from '../../src/sam/weights/weight-spec';
import { FIXTURES_DIR } from './fixture';

test('presets carry the official build functions hyper-parameters', () => {
  expect(SAM_PRESETS.vit_b.imageEncoder).toMatchObject({
    embedDim: 768,
    depth: 12,
    numHeads: 12,
    globalAttnIndexes: [2, 5, 8, 11],
    windowSize: 14,
    imgSize: 1024,
    patchSize: 16,
    outChans: 256,
  });
  expect(SAM_PRESETS.vit_l.imageEncoder).toMatchObject({
    embedDim: 1024,
    depth: 24,
    numHeads: 16,
    globalAttnIndexes: [5, 11, 17, 23],
  });
  expect(SAM_PRESETS.vit_h.imageEncoder).toMatchObject({
    embedDim: 1280,
    depth: 32,
    numHeads: 16,
    globalAttnIndexes: [7, 15, 23, 31],
  });
  expect(SAM_PRESETS.vit_h.maskDecoder).toMatchObject({
    transformerDim: 256,
    iouHeadHiddenDim: 256,
    transformer: { depth: 2, mlpDim: 2048, numHeads: 8 },
  });
});

test.each(['tiny', 'vitb2'])('weight specs of %s match the fixture state dict names and shapes', (model) => {
  const json = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, model, 'config.json'), 'utf8'));
  const want = new Map<string, number[]>(
    json.weights.tensors.map((t: { name: string; shape: number[] }) => [t.name, t.shape]),
  );
  const got = new Map(samWeightSpecs(samConfigFromJson(json)).map((s) => [s.name, s.shape]));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, shape] of want) expect(got.get(name)).toEqual(shape);
});

test('config JSON round trip and clear errors naming the key', () => {
  const cfg = SAM_PRESETS.vit_l;
  expect(samConfigFromJson(samConfigToJson(cfg))).toEqual({ ...cfg });
  const bad = samConfigToJson(cfg) as any;
  bad.image_encoder.embed_dim = 'wide';
  expect(() => samConfigFromJson(bad)).toThrow(/image_encoder\.embed_dim/);
  const bad2 = samConfigToJson(cfg) as any;
  bad2.image_encoder.global_attn_indexes = [40];
  expect(() => samConfigFromJson(bad2)).toThrow(/global_attn_indexes has 40/);
});
