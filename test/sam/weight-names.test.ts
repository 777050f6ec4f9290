import * as path from 'node:path';

import { readSafetensors, readSafetensorsHeader } from '../../src/io/safetensors';
import { NamedTensor, TensorRecord } from '../../src/io/tensor-record';
import { detectNaming, toHuggingFaceNames, toOfficialNames } from '../../src/sam/weights/weight-names';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/sam');

function t(values: number[]): NamedTensor {
  return { dtype: 'float32', shape: [values.length], data: Float32Array.from(values) };
}

function recordOf(names: string[]): TensorRecord {
  return new Map(names.map((n, i) => [n, t([i])]));
}

describe('SAM weight names', () => {
  let official: TensorRecord;
  beforeAll(async () => {
    official = (await readSafetensors(path.join(FIXTURES, 'tiny/weights.safetensors'))).tensors;
  });

  test('official -> Hugging Face -> official is the identity on the fixture', () => {
    expect(detectNaming(official.keys())).toBe('official');
    const hf = toHuggingFaceNames(official);
    expect(hf.size).toBe(official.size);
    expect(detectNaming(hf.keys())).toBe('huggingface');
    for (const name of hf.keys()) {
      expect(name.startsWith('image_encoder.')).toBe(false);
    }
    const back = toOfficialNames(hf);
    expect([...back.keys()]).toEqual([...official.keys()]);
    for (const [name, tensor] of official) expect(back.get(name)).toBe(tensor);
    // Official names pass through unchanged.
    expect([...toOfficialNames(official).keys()]).toEqual([...official.keys()]);
  });

  test('maps onto the exact names of transformers SamModel', () => {
    const hf = toHuggingFaceNames(official);
    const expectPair = (officialName: string, hfName: string): void => {
      expect(official.has(officialName)).toBe(true);
      expect(hf.get(hfName)).toBe(official.get(officialName));
    };
    expectPair('image_encoder.pos_embed', 'vision_encoder.pos_embed');
    expectPair('image_encoder.patch_embed.proj.weight', 'vision_encoder.patch_embed.projection.weight');
    expectPair('image_encoder.blocks.1.attn.qkv.weight', 'vision_encoder.layers.1.attn.qkv.weight');
    expectPair('image_encoder.blocks.0.attn.rel_pos_h', 'vision_encoder.layers.0.attn.rel_pos_h');
    expectPair('image_encoder.blocks.0.norm1.weight', 'vision_encoder.layers.0.layer_norm1.weight');
    expectPair('image_encoder.blocks.1.norm2.bias', 'vision_encoder.layers.1.layer_norm2.bias');
    expectPair('image_encoder.blocks.1.mlp.lin1.weight', 'vision_encoder.layers.1.mlp.lin1.weight');
    expectPair('image_encoder.neck.0.weight', 'vision_encoder.neck.conv1.weight');
    expectPair('image_encoder.neck.1.bias', 'vision_encoder.neck.layer_norm1.bias');
    expectPair('image_encoder.neck.2.weight', 'vision_encoder.neck.conv2.weight');
    expectPair('image_encoder.neck.3.weight', 'vision_encoder.neck.layer_norm2.weight');
    expectPair(
      'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix',
      'shared_image_embedding.positional_embedding',
    );
    expectPair('prompt_encoder.point_embeddings.3.weight', 'prompt_encoder.point_embed.3.weight');
    expectPair('prompt_encoder.not_a_point_embed.weight', 'prompt_encoder.not_a_point_embed.weight');
    expectPair('prompt_encoder.no_mask_embed.weight', 'prompt_encoder.no_mask_embed.weight');
    expectPair('prompt_encoder.mask_downscaling.0.weight', 'prompt_encoder.mask_embed.conv1.weight');
    expectPair('prompt_encoder.mask_downscaling.1.bias', 'prompt_encoder.mask_embed.layer_norm1.bias');
    expectPair('prompt_encoder.mask_downscaling.3.weight', 'prompt_encoder.mask_embed.conv2.weight');
    expectPair('prompt_encoder.mask_downscaling.4.weight', 'prompt_encoder.mask_embed.layer_norm2.weight');
    expectPair('prompt_encoder.mask_downscaling.6.bias', 'prompt_encoder.mask_embed.conv3.bias');
    expectPair(
      'mask_decoder.transformer.layers.0.self_attn.q_proj.weight',
      'mask_decoder.transformer.layers.0.self_attn.q_proj.weight',
    );
    expectPair(
      'mask_decoder.transformer.layers.1.cross_attn_image_to_token.out_proj.bias',
      'mask_decoder.transformer.layers.1.cross_attn_image_to_token.out_proj.bias',
    );
    expectPair(
      'mask_decoder.transformer.layers.0.norm1.weight',
      'mask_decoder.transformer.layers.0.layer_norm1.weight',
    );
    expectPair('mask_decoder.transformer.layers.1.norm4.bias', 'mask_decoder.transformer.layers.1.layer_norm4.bias');
    expectPair(
      'mask_decoder.transformer.final_attn_token_to_image.k_proj.weight',
      'mask_decoder.transformer.final_attn_token_to_image.k_proj.weight',
    );
    expectPair(
      'mask_decoder.transformer.norm_final_attn.weight',
      'mask_decoder.transformer.layer_norm_final_attn.weight',
    );
    expectPair('mask_decoder.output_upscaling.0.weight', 'mask_decoder.upscale_conv1.weight');
    expectPair('mask_decoder.output_upscaling.1.bias', 'mask_decoder.upscale_layer_norm.bias');
    expectPair('mask_decoder.output_upscaling.3.weight', 'mask_decoder.upscale_conv2.weight');
    expectPair(
      'mask_decoder.output_hypernetworks_mlps.2.layers.0.weight',
      'mask_decoder.output_hypernetworks_mlps.2.proj_in.weight',
    );
    expectPair(
      'mask_decoder.output_hypernetworks_mlps.2.layers.1.bias',
      'mask_decoder.output_hypernetworks_mlps.2.layers.0.bias',
    );
    expectPair(
      'mask_decoder.output_hypernetworks_mlps.2.layers.2.weight',
      'mask_decoder.output_hypernetworks_mlps.2.proj_out.weight',
    );
    expectPair('mask_decoder.iou_prediction_head.layers.0.bias', 'mask_decoder.iou_prediction_head.proj_in.bias');
    expectPair('mask_decoder.iou_prediction_head.layers.2.weight', 'mask_decoder.iou_prediction_head.proj_out.weight');
    expectPair('mask_decoder.iou_token.weight', 'mask_decoder.iou_token.weight');
  });

  test('every weight of the ViT-B-geometry fixture has a name in both conventions', async () => {
    const { entries } = await readSafetensorsHeader(path.join(FIXTURES, 'vitb2/weights.safetensors'));
    const names = entries.map((e) => e.name);
    expect(detectNaming(names)).toBe('official');
    const hf = toHuggingFaceNames(recordOf(names));
    expect([...toOfficialNames(hf).keys()]).toEqual(names);
  });

  test('MLP depth is read from the names (deeper IoU head)', () => {
    const names = [0, 1, 2, 3].map((k) => `mask_decoder.iou_prediction_head.layers.${k}.weight`);
    const hf = toHuggingFaceNames(recordOf(names));
    expect([...hf.keys()]).toEqual([
      'mask_decoder.iou_prediction_head.proj_in.weight',
      'mask_decoder.iou_prediction_head.layers.0.weight',
      'mask_decoder.iou_prediction_head.layers.1.weight',
      'mask_decoder.iou_prediction_head.proj_out.weight',
    ]);
    expect([...toOfficialNames(hf).keys()]).toEqual(names);
  });

  test('the tied positional matrix of SamModel is deduplicated, or used alone', () => {
    const both = new Map([
      ['shared_image_embedding.positional_embedding', t([1, 2])],
      ['prompt_encoder.shared_embedding.positional_embedding', t([1, 2])],
      ['vision_encoder.pos_embed', t([3])],
    ]);
    expect([...toOfficialNames(both).keys()]).toEqual([
      'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix',
      'image_encoder.pos_embed',
    ]);
    both.set('prompt_encoder.shared_embedding.positional_embedding', t([1, 5]));
    expect(() => toOfficialNames(both)).toThrow(/prompt_encoder\.shared_embedding\.positional_embedding' differs/);
    const tiedOnly = new Map([
      ['prompt_encoder.shared_embedding.positional_embedding', t([1, 2])],
      ['vision_encoder.pos_embed', t([3])],
    ]);
    expect(toOfficialNames(tiedOnly).get('prompt_encoder.pe_layer.positional_encoding_gaussian_matrix')?.data).toEqual(
      Float32Array.from([1, 2]),
    );
  });

  test('non-weight buffers are dropped; unknown or mixed names are refused by name', () => {
    const withBuffers = new Map(official);
    withBuffers.set('pixel_mean', t([123.675, 116.28, 103.53]));
    expect(toOfficialNames(withBuffers).has('pixel_mean')).toBe(false);
    expect(toHuggingFaceNames(withBuffers).size).toBe(official.size);

    const stray = new Map(official);
    stray.set('image_encoder.blocks.0.attn.extra.weight', t([0]));
    expect(detectNaming(stray.keys())).toBe('unknown');
    expect(() => toOfficialNames(stray)).toThrow(
      /official segment-anything.*'image_encoder\.blocks\.0\.attn\.extra\.weight'/,
    );

    const mixed = recordOf(['image_encoder.pos_embed', 'vision_encoder.layers.0.layer_norm1.weight']);
    expect(detectNaming(mixed.keys())).toBe('unknown');
    expect(() => toOfficialNames(mixed)).toThrow(/cannot map checkpoint tensor names/);
    expect(() => toHuggingFaceNames(toHuggingFaceNames(official))).toThrow(/already uses Hugging Face names/);
    expect(detectNaming([])).toBe('unknown');
  });
});
