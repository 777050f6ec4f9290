/**
 * The USE loader against a tiny graph model with USE-lite's signature (sparse token ids in as
 * `indices` [N, 2] and `values` [N], int32; sentence vectors out), written by hand in the tfjs
 * graph-model format into a temporary folder: token embedding table, SparseSegmentMean per
 * sentence, then a dense projection. Expected vectors are computed here from the same weights.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend';
import { createTextEncoder } from '../../src/text/create-text-encoder';
import { HashedNgramEncoder } from '../../src/text/hashed-ngram-encoder';
import { UseTextEncoder } from '../../src/text/use-encoder';
import { Rng } from '../../src/utils/rng';

const VOCAB: Array<[string, number]> = [
  ['<unk>', 0],
  ['<s>', 0],
  ['</s>', 0],
  ['<ctl1>', 0],
  ['<ctl2>', 0],
  ['<ctl3>', 0],
  ['\u2581star', -2],
  ['\u2581circle', -2],
  ['\u2581', -3],
  ['s', -4],
  ['t', -4],
  ['a', -4],
  ['r', -4],
  ['c', -4],
  ['i', -4],
  ['l', -4],
  ['e', -4],
  ['\u2581car', -2.5],
  ['o', -4],
  ['n', -4],
];
const V = VOCAB.length;
const D = 6;
const OUT = 10;

const dim = (...sizes: number[]) => ({ dim: sizes.map((s) => ({ size: String(s) })) });

function tinyUseModel(seed: number): { json: object; shard: Buffer; table: Float32Array; proj: Float32Array } {
  const rng = new Rng(seed);
  const table = Float32Array.from({ length: V * D }, () => rng.normal());
  const proj = Float32Array.from({ length: D * OUT }, () => rng.normal());
  const ints = Int32Array.from([0, 1]);
  const shard = Buffer.concat([Buffer.from(table.buffer), Buffer.from(proj.buffer), Buffer.from(ints.buffer)]);
  const constNode = (name: string, dtype: string, shape: number[]) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: shape.length ? dim(...shape) : {} } }, dtype: { type: dtype } },
  });
  const json = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'hand',
    modelTopology: {
      node: [
        { name: 'indices', op: 'Placeholder', attr: { dtype: { type: 'DT_INT32' }, shape: { shape: dim(-1, 2) } } },
        { name: 'values', op: 'Placeholder', attr: { dtype: { type: 'DT_INT32' }, shape: { shape: dim(-1) } } },
        constNode('Embeddings/table', 'DT_FLOAT', [V, D]),
        constNode('Encoder/proj', 'DT_FLOAT', [D, OUT]),
        constNode('zero', 'DT_INT32', []),
        constNode('one', 'DT_INT32', []),
        {
          name: 'segment_ids',
          op: 'GatherV2',
          input: ['indices', 'zero', 'one'],
          attr: {
            Tparams: { type: 'DT_INT32' },
            Tindices: { type: 'DT_INT32' },
            Taxis: { type: 'DT_INT32' },
            batch_dims: { i: '0' },
          },
        },
        {
          name: 'mean_tokens',
          op: 'SparseSegmentMean',
          input: ['Embeddings/table', 'values', 'segment_ids'],
          attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } },
        },
        {
          name: 'Encoder/out',
          op: 'MatMul',
          input: ['mean_tokens', 'Encoder/proj'],
          attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } },
        },
      ],
      library: {},
      versions: {},
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'Embeddings/table', shape: [V, D], dtype: 'float32' },
          { name: 'Encoder/proj', shape: [D, OUT], dtype: 'float32' },
          { name: 'zero', shape: [], dtype: 'int32' },
          { name: 'one', shape: [], dtype: 'int32' },
        ],
      },
    ],
  };
  return { json, shard, table, proj };
}

/** What the tiny model computes for one sentence, then L2-normalised as the encoder promises. */
function expected(ids: number[], table: Float32Array, proj: Float32Array): Float32Array {
  const mean = new Float64Array(D);
  for (const id of ids) for (let d = 0; d < D; d++) mean[d] += table[id * D + d] / ids.length;
  const out = new Float32Array(OUT);
  for (let o = 0; o < OUT; o++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += mean[d] * proj[d * OUT + o];
    out[o] = s;
  }
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
}

let tmp: string;

async function writeModel(dir: string, seed = 1) {
  const m = tinyUseModel(seed);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'model.json'), JSON.stringify(m.json));
  await fsp.writeFile(path.join(dir, 'group1-shard1of1.bin'), m.shard);
  await fsp.writeFile(path.join(dir, 'vocab.json'), JSON.stringify(VOCAB));
  return m;
}

beforeAll(async () => {
  await initBackend('wasm');
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'use-test-'));
});

afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('UseTextEncoder', () => {
  it('builds from a local folder and embeds names as the graph computes them', async () => {
    const dir = path.join(tmp, 'ok');
    const { table, proj } = await writeModel(dir);
    const enc = await UseTextEncoder.load(dir);
    try {
      expect(enc.dim).toBe(OUT);
      expect(enc.id).toMatch(/^use-lite:[0-9a-f]{16}$/);
      expect(enc.tokenize('star')).toEqual([6]);
      const names = ['star', 'circle', 'car star', 'sail'];
      const vecs = await enc.embed(names);
      names.forEach((name, i) => {
        const ids = enc.tokenize(name);
        expect(ids.length).toBeGreaterThan(0);
        const want = expected(ids, table, proj);
        for (let o = 0; o < OUT; o++) expect(vecs[i][o]).toBeCloseTo(want[o], 5);
      });
      // Different sentences in one batch really get different rows.
      expect(Array.from(vecs[0])).not.toEqual(Array.from(vecs[1]));
      // Cached per (normalised) name; empty name -> zero vector.
      const again = await enc.embed([' star ', '']);
      expect(again[0]).toBe(vecs[0]);
      expect(Array.from(again[1])).toEqual(new Array(OUT).fill(0));
    } finally {
      enc.dispose();
    }
  });

  it('identity depends on the files', async () => {
    const a = path.join(tmp, 'idA');
    const b = path.join(tmp, 'idB');
    await writeModel(a, 1);
    await writeModel(b, 2);
    const ea = await UseTextEncoder.load(a);
    const ea2 = await UseTextEncoder.load(a);
    const eb = await UseTextEncoder.load(b);
    expect(ea.id).toBe(ea2.id);
    expect(ea.id).not.toBe(eb.id);
    [ea, ea2, eb].forEach((e) => e.dispose());
  });

  it.each([
    ['vocab.json', /missing vocabulary '.*vocab\.json'/],
    ['model.json', /missing model file '.*model\.json'/],
    ['group1-shard1of1.bin', /missing weight shard '.*group1-shard1of1\.bin'/],
  ])('names the missing file %s', async (file, message) => {
    const dir = path.join(tmp, `missing-${file}`);
    await writeModel(dir);
    await fsp.rm(path.join(dir, file));
    await expect(UseTextEncoder.load(dir)).rejects.toThrow(message);
  });

  it('rejects a truncated shard and a missing folder', async () => {
    const dir = path.join(tmp, 'truncated');
    const m = await writeModel(dir);
    await fsp.writeFile(path.join(dir, 'group1-shard1of1.bin'), m.shard.subarray(0, m.shard.length - 8));
    await expect(UseTextEncoder.load(dir)).rejects.toThrow(/lists \d+ bytes of weights but its shards .* hold \d+/);
    await expect(UseTextEncoder.load(path.join(tmp, 'nope'))).rejects.toThrow(/folder '.*nope' does not exist/);
  });

  it('rejects a graph without the USE inputs', async () => {
    const dir = path.join(tmp, 'wrong-inputs');
    const m = tinyUseModel(3);
    const json = m.json as { modelTopology: { node: Array<{ name: string; input?: string[] }> } };
    json.modelTopology.node[1].name = 'tokens';
    json.modelTopology.node[7].input = ['Embeddings/table', 'tokens', 'segment_ids'];
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    await fsp.writeFile(path.join(dir, 'group1-shard1of1.bin'), m.shard);
    await fsp.writeFile(path.join(dir, 'vocab.json'), JSON.stringify(VOCAB));
    await expect(UseTextEncoder.load(dir)).rejects.toThrow(/no input 'values'/);
  });

  it('rejects a malformed vocabulary naming the entry', async () => {
    const dir = path.join(tmp, 'bad-vocab');
    await writeModel(dir);
    await fsp.writeFile(
      path.join(dir, 'vocab.json'),
      JSON.stringify([
        ['a', 0],
        ['b', 'x'],
      ]),
    );
    await expect(UseTextEncoder.load(dir)).rejects.toThrow(/vocab\.json: entry 1 must be \[piece/);
  });
});

describe('createTextEncoder', () => {
  it('uses USE when the folder exists', async () => {
    const dir = path.join(tmp, 'create');
    await writeModel(dir);
    const enc = await createTextEncoder({ type: 'use', dir });
    expect(enc).toBeInstanceOf(UseTextEncoder);
    (enc as UseTextEncoder).dispose();
  });

  it('falls back to the hashed encoder only when the folder is absent, and says so', async () => {
    const messages: string[] = [];
    const enc = await createTextEncoder({
      type: 'use',
      dir: path.join(tmp, 'absent'),
      onFallback: (m) => messages.push(m),
    });
    expect(enc).toBeInstanceOf(HashedNgramEncoder);
    expect(enc.dim).toBe(512);
    expect(messages.join()).toMatch(/not found: using the offline hashed n-gram text encoder .*weaker/);
    await expect(createTextEncoder({ type: 'use', dir: path.join(tmp, 'absent'), fallback: false })).rejects.toThrow(
      /does not exist/,
    );
    // An incomplete folder is an error, never a silent fallback.
    const dir = path.join(tmp, 'incomplete');
    await writeModel(dir);
    await fsp.rm(path.join(dir, 'vocab.json'));
    await expect(createTextEncoder({ type: 'use', dir })).rejects.toThrow(/vocab\.json/);
    const h = await createTextEncoder({ type: 'hashed', dim: 64 });
    expect(h.id).toBe('hashed-ngram-v1:d64:n1-4');
  });
});
