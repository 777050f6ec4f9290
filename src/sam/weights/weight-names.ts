/**
 * Tensor names of SAM checkpoints in the two conventions found in the wild, and the mapping between
 * them: the official segment-anything names (`image_encoder.blocks.N.norm1.weight`, ...) used by this
 * project, and Hugging Face `transformers` SamModel names (`vision_encoder.layers.N.layer_norm1.weight`).
 *
 * Every tensor has the same shape and layout in both conventions (PyTorch Linear [out, in], Conv2d
 * [out, in, kh, kw], ConvTranspose2d [in, out, kh, kw]); only names differ. Two structural points:
 * - The prompt encoder's random-Fourier matrix is one tensor (`prompt_encoder.pe_layer.
 *   positional_encoding_gaussian_matrix`) but SamModel shares it between `shared_image_embedding` and
 *   the prompt encoder, so an HF state dict may also carry `prompt_encoder.shared_embedding.
 *   positional_embedding`; that duplicate must equal the shared one and is dropped.
 * - The official MLPs name their linears `layers.0 .. layers.D-1`; HF names them `proj_in`,
 *   `layers.0 .. layers.D-3`, `proj_out`. The depth D is read from the names present.
 * The official buffers `pixel_mean`/`pixel_std`, present in some official-style dumps, are not weights
 * and are dropped.
 */
import { NamedTensor, TensorRecord } from '../../io/tensor-record';

export type SamNaming = 'official' | 'huggingface' | 'unknown';

/** Non-weight or duplicate entries that are recognised and dropped, by convention. */
const OFFICIAL_EXTRAS = new Set(['pixel_mean', 'pixel_std']);
const HF_SHARED_PE = 'shared_image_embedding.positional_embedding';
const HF_TIED_PE = 'prompt_encoder.shared_embedding.positional_embedding';
const HF_EXTRAS = new Set([HF_TIED_PE]);

interface NameRule {
  official: RegExp;
  hf: RegExp;
  officialTemplate: string;
  hfTemplate: string;
}

/** `{i}` is a layer index and `{wb}` is `weight` or `bias`; both must appear in the same order on both sides. */
function compile(template: string): RegExp {
  const pattern = template
    .split(/(\{i\}|\{wb\})/)
    .map((part) =>
      part === '{i}' ? '(\\d+)' : part === '{wb}' ? '(weight|bias)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${pattern}$`);
}

function fill(template: string, captures: string[]): string {
  let k = 0;
  return template.replace(/\{i\}|\{wb\}/g, () => captures[k++]);
}

function buildRules(): NameRule[] {
  const pairs: Array<[string, string]> = [];
  const add = (official: string, hf: string): void => {
    pairs.push([official, hf]);
  };
  // Image encoder.
  add('image_encoder.pos_embed', 'vision_encoder.pos_embed');
  add('image_encoder.patch_embed.proj.{wb}', 'vision_encoder.patch_embed.projection.{wb}');
  add('image_encoder.blocks.{i}.norm1.{wb}', 'vision_encoder.layers.{i}.layer_norm1.{wb}');
  add('image_encoder.blocks.{i}.norm2.{wb}', 'vision_encoder.layers.{i}.layer_norm2.{wb}');
  add('image_encoder.blocks.{i}.attn.qkv.{wb}', 'vision_encoder.layers.{i}.attn.qkv.{wb}');
  add('image_encoder.blocks.{i}.attn.proj.{wb}', 'vision_encoder.layers.{i}.attn.proj.{wb}');
  add('image_encoder.blocks.{i}.attn.rel_pos_h', 'vision_encoder.layers.{i}.attn.rel_pos_h');
  add('image_encoder.blocks.{i}.attn.rel_pos_w', 'vision_encoder.layers.{i}.attn.rel_pos_w');
  add('image_encoder.blocks.{i}.mlp.lin1.{wb}', 'vision_encoder.layers.{i}.mlp.lin1.{wb}');
  add('image_encoder.blocks.{i}.mlp.lin2.{wb}', 'vision_encoder.layers.{i}.mlp.lin2.{wb}');
  const neck = ['conv1', 'layer_norm1', 'conv2', 'layer_norm2'];
  neck.forEach((hfName, k) => add(`image_encoder.neck.${k}.{wb}`, `vision_encoder.neck.${hfName}.{wb}`));
  // Prompt encoder.
  add('prompt_encoder.pe_layer.positional_encoding_gaussian_matrix', HF_SHARED_PE);
  add('prompt_encoder.point_embeddings.{i}.weight', 'prompt_encoder.point_embed.{i}.weight');
  add('prompt_encoder.not_a_point_embed.weight', 'prompt_encoder.not_a_point_embed.weight');
  add('prompt_encoder.no_mask_embed.weight', 'prompt_encoder.no_mask_embed.weight');
  const maskDownscaling: Array<[number, string]> = [
    [0, 'conv1'],
    [1, 'layer_norm1'],
    [3, 'conv2'],
    [4, 'layer_norm2'],
    [6, 'conv3'],
  ];
  for (const [k, hfName] of maskDownscaling) {
    add(`prompt_encoder.mask_downscaling.${k}.{wb}`, `prompt_encoder.mask_embed.${hfName}.{wb}`);
  }
  // Mask decoder.
  add('mask_decoder.iou_token.weight', 'mask_decoder.iou_token.weight');
  add('mask_decoder.mask_tokens.weight', 'mask_decoder.mask_tokens.weight');
  const projections = ['q_proj', 'k_proj', 'v_proj', 'out_proj'];
  for (const attn of ['self_attn', 'cross_attn_token_to_image', 'cross_attn_image_to_token']) {
    for (const p of projections) {
      add(
        `mask_decoder.transformer.layers.{i}.${attn}.${p}.{wb}`,
        `mask_decoder.transformer.layers.{i}.${attn}.${p}.{wb}`,
      );
    }
  }
  for (const lin of ['lin1', 'lin2']) {
    add(`mask_decoder.transformer.layers.{i}.mlp.${lin}.{wb}`, `mask_decoder.transformer.layers.{i}.mlp.${lin}.{wb}`);
  }
  for (const k of [1, 2, 3, 4]) {
    add(`mask_decoder.transformer.layers.{i}.norm${k}.{wb}`, `mask_decoder.transformer.layers.{i}.layer_norm${k}.{wb}`);
  }
  for (const p of projections) {
    add(
      `mask_decoder.transformer.final_attn_token_to_image.${p}.{wb}`,
      `mask_decoder.transformer.final_attn_token_to_image.${p}.{wb}`,
    );
  }
  add('mask_decoder.transformer.norm_final_attn.{wb}', 'mask_decoder.transformer.layer_norm_final_attn.{wb}');
  add('mask_decoder.output_upscaling.0.{wb}', 'mask_decoder.upscale_conv1.{wb}');
  add('mask_decoder.output_upscaling.1.{wb}', 'mask_decoder.upscale_layer_norm.{wb}');
  add('mask_decoder.output_upscaling.3.{wb}', 'mask_decoder.upscale_conv2.{wb}');
  return pairs.map(([officialTemplate, hfTemplate]) => ({
    official: compile(officialTemplate),
    hf: compile(hfTemplate),
    officialTemplate,
    hfTemplate,
  }));
}

const RULES = buildRules();

/** MLPs of the mask decoder; the module path is the same in both conventions. */
const MLP_MODULE = '(mask_decoder\\.output_hypernetworks_mlps\\.\\d+|mask_decoder\\.iou_prediction_head)';
const OFFICIAL_MLP = new RegExp(`^${MLP_MODULE}\\.layers\\.(\\d+)\\.(weight|bias)$`);
const HF_MLP = new RegExp(`^${MLP_MODULE}\\.(proj_in|proj_out|layers\\.(\\d+))\\.(weight|bias)$`);

function isOfficialName(name: string): boolean {
  return OFFICIAL_EXTRAS.has(name) || OFFICIAL_MLP.test(name) || RULES.some((r) => r.official.test(name));
}

function isHfName(name: string): boolean {
  return HF_EXTRAS.has(name) || HF_MLP.test(name) || RULES.some((r) => r.hf.test(name));
}

/**
 * The convention under which every name is a known SAM weight name. Names common to both (e.g.
 * `mask_decoder.iou_token.weight`) do not decide; a record made only of such names is 'official'.
 * Mixed or unrecognised names give 'unknown'.
 */
export function detectNaming(names: Iterable<string>): SamNaming {
  let total = 0;
  let official = 0;
  let hf = 0;
  for (const name of names) {
    total++;
    if (isOfficialName(name)) official++;
    if (isHfName(name)) hf++;
  }
  if (total === 0) return 'unknown';
  if (official === total) return 'official';
  if (hf === total) return 'huggingface';
  return 'unknown';
}

function unknownNamingError(names: string[]): Error {
  const notOfficial = names.filter((n) => !isOfficialName(n));
  const notHf = names.filter((n) => !isHfName(n));
  const culprits = notOfficial.length <= notHf.length ? notOfficial : notHf;
  const convention = notOfficial.length <= notHf.length ? 'official segment-anything' : 'Hugging Face SamModel';
  const shown = culprits
    .slice(0, 5)
    .map((n) => `'${n}'`)
    .join(', ');
  return new Error(
    `cannot map checkpoint tensor names onto SAM modules: closest convention is ${convention}, but ` +
      `${culprits.length} tensor(s) are not SAM weights in it: ${shown}${culprits.length > 5 ? ', ...' : ''}`,
  );
}

/** Per MLP module: official depth D (number of linears), from the names present. */
function mlpDepths(names: string[], naming: 'official' | 'huggingface'): Map<string, number> {
  const maxIndex = new Map<string, number>();
  for (const name of names) {
    const m = (naming === 'official' ? OFFICIAL_MLP : HF_MLP).exec(name);
    if (m === null) continue;
    const index = naming === 'official' ? Number(m[2]) : m[3] !== undefined ? Number(m[3]) : -1;
    maxIndex.set(m[1], Math.max(maxIndex.get(m[1]) ?? -1, index));
  }
  const depths = new Map<string, number>();
  // Official: indices 0..D-1. HF: hidden layers 0..D-3 plus proj_in and proj_out.
  for (const [module, max] of maxIndex) depths.set(module, naming === 'official' ? max + 1 : max + 3);
  return depths;
}

function officialToHf(name: string, depths: Map<string, number>): string {
  const mlp = OFFICIAL_MLP.exec(name);
  if (mlp !== null) {
    const [, module, indexText, param] = mlp;
    const depth = depths.get(module) as number;
    if (depth < 2) throw new Error(`tensor '${name}': an MLP of depth ${depth} has no Hugging Face equivalent`);
    const k = Number(indexText);
    const part = k === 0 ? 'proj_in' : k === depth - 1 ? 'proj_out' : `layers.${k - 1}`;
    return `${module}.${part}.${param}`;
  }
  for (const rule of RULES) {
    const m = rule.official.exec(name);
    if (m !== null) return fill(rule.hfTemplate, m.slice(1));
  }
  throw new Error(`tensor '${name}' is not an official SAM weight name`);
}

function hfToOfficial(name: string, depths: Map<string, number>): string {
  const mlp = HF_MLP.exec(name);
  if (mlp !== null) {
    const [, module, part, hiddenIndex, param] = mlp;
    const depth = depths.get(module) as number;
    const k = part === 'proj_in' ? 0 : part === 'proj_out' ? depth - 1 : Number(hiddenIndex) + 1;
    return `${module}.layers.${k}.${param}`;
  }
  for (const rule of RULES) {
    const m = rule.hf.exec(name);
    if (m !== null) return fill(rule.officialTemplate, m.slice(1));
  }
  throw new Error(`tensor '${name}' is not a Hugging Face SamModel weight name`);
}

/** Whether two tensors have the same dtype, shape and bytes. */
export function sameTensor(a: NamedTensor, b: NamedTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function insert<T>(out: Map<string, T>, name: string, value: T, source: string): void {
  if (out.has(name)) throw new Error(`tensors '${source}' and another both map to '${name}'`);
  out.set(name, value);
}

/**
 * Official segment-anything name -> the name as stored, for a checkpoint's tensor names (source
 * order). Accepts official or Hugging Face names; throws naming any tensor it cannot place.
 * `tiedEqualsShared` compares the Hugging Face duplicate of the random-Fourier matrix with the
 * shared one (by their stored names), asked only where a checkpoint holds both.
 */
export function officialNameMap(
  names: string[],
  tiedEqualsShared: (tied: string, shared: string) => boolean,
): Map<string, string> {
  const naming = detectNaming(names);
  if (naming === 'unknown') throw unknownNamingError(names);
  const out = new Map<string, string>();
  if (naming === 'official') {
    for (const name of names) if (!OFFICIAL_EXTRAS.has(name)) out.set(name, name);
    return out;
  }
  const hasShared = names.includes(HF_SHARED_PE);
  if (hasShared && names.includes(HF_TIED_PE) && !tiedEqualsShared(HF_TIED_PE, HF_SHARED_PE)) {
    throw new Error(
      `'${HF_TIED_PE}' differs from '${HF_SHARED_PE}'; SamModel ties them, so the checkpoint is inconsistent`,
    );
  }
  const depths = mlpDepths(names, 'huggingface');
  for (const name of names) {
    if (name === HF_TIED_PE) {
      // Only the duplicate of the shared matrix: use it when the shared name itself is absent.
      if (!hasShared) insert(out, hfToOfficial(HF_SHARED_PE, depths), name, name);
      continue;
    }
    insert(out, hfToOfficial(name, depths), name, name);
  }
  return out;
}

/**
 * The record under official segment-anything names (same tensor objects, source order). Accepts
 * official or Hugging Face names; throws naming any tensor it cannot place.
 */
export function toOfficialNames(record: TensorRecord): TensorRecord {
  const names = officialNameMap([...record.keys()], (tied, shared) =>
    sameTensor(record.get(tied)!, record.get(shared)!),
  );
  return new Map([...names].map(([official, stored]) => [official, record.get(stored)!]));
}

/** The record under Hugging Face SamModel names (input must use official names). */
export function toHuggingFaceNames(record: TensorRecord): TensorRecord {
  const names = [...record.keys()];
  const naming = detectNaming(names);
  if (naming !== 'official') {
    if (naming === 'huggingface') throw new Error('the record already uses Hugging Face names');
    throw unknownNamingError(names);
  }
  const depths = mlpDepths(names, 'official');
  const out: TensorRecord = new Map();
  for (const [name, tensor] of record) {
    if (OFFICIAL_EXTRAS.has(name)) continue;
    insert(out, officialToHf(name, depths), tensor, name);
  }
  return out;
}
