/**
 * The Universal Sentence Encoder (lite, as in `@tensorflow-models/universal-sentence-encoder`)
 * built from a LOCAL folder, never the network:
 *
 *   <dir>/model.json        tfjs graph model (weightsManifest names the shards)
 *   <dir>/group1-shard*     weight shards listed in model.json
 *   <dir>/vocab.json        SentencePiece vocabulary: [[piece, score], ...]
 *
 * The package's own `load()` fetches these from Google's servers, so we read the files ourselves,
 * build the graph model through an in-memory IO handler, and reuse only the package's
 * SentencePiece `Tokenizer` (pure JS), calling the graph exactly as the package does: a sparse
 * batch of token ids, `indices` [N, 2] (sentence, position) and `values` [N], both int32, giving
 * [B, 512] sentence vectors. The identity is a SHA-256 of model.json, the shards and vocab.json.
 * `scripts/download-use.ts` fetches the files for users with a network.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tokenizer } from '@tensorflow-models/universal-sentence-encoder';
import { CachedTextEncoder } from './text-encoder';

export const USE_MODEL_FILE = 'model.json';
export const USE_VOCAB_FILE = 'vocab.json';

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  complex64: 8,
};

async function readFileNamed(file: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(
        `Universal Sentence Encoder folder is incomplete: missing ${what} '${file}' (run scripts/download-use.ts or copy the files there)`,
      );
    throw new Error(`cannot read ${what} '${file}': ${(err as Error).message}`);
  }
}

function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
}

/** Bytes a manifest entry occupies in its shard, or null when it cannot be known (strings). */
function entryBytes(e: tf.io.WeightsManifestEntry): number | null {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const dtype = e.quantization ? e.quantization.dtype : e.dtype;
  const size = DTYPE_BYTES[dtype as string];
  return size === undefined ? null : n * size;
}

/** Reads and checks model.json and every shard it lists; errors name the file at fault. */
async function readGraphArtifacts(
  dir: string,
): Promise<{ artifacts: tf.io.ModelArtifacts; hash: ReturnType<typeof createHash> }> {
  const modelFile = path.join(dir, USE_MODEL_FILE);
  const modelBytes = await readFileNamed(modelFile, 'model file');
  const hash = createHash('sha256').update(modelBytes);
  const json = parseJson(modelBytes, modelFile) as tf.io.ModelJSON;
  if (!json || typeof json !== 'object' || !json.modelTopology)
    throw new Error(`${modelFile}: not a tfjs graph model (no 'modelTopology')`);
  if (!Array.isArray(json.weightsManifest))
    throw new Error(`${modelFile}: not a tfjs graph model (no 'weightsManifest' array)`);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const [g, group] of manifest.entries()) {
      if (!Array.isArray(group.paths) || !Array.isArray(group.weights))
        throw new Error(`${modelFile}: weightsManifest[${g}] needs 'paths' and 'weights' arrays`);
      let groupBytes = 0;
      for (const p of group.paths) {
        if (typeof p !== 'string' || p.includes('..') || path.isAbsolute(p))
          throw new Error(`${modelFile}: weightsManifest[${g}] has an unsafe shard path ${JSON.stringify(p)}`);
        const shardFile = path.join(dir, p);
        const bytes = await readFileNamed(shardFile, 'weight shard');
        hash.update(bytes);
        groupBytes += bytes.byteLength;
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
      let expected = 0;
      for (const w of group.weights) {
        const b = entryBytes(w);
        if (b === null) {
          expected = -1;
          break;
        }
        expected += b;
      }
      if (expected >= 0 && expected !== groupBytes) {
        throw new Error(
          `${modelFile}: weightsManifest[${g}] lists ${expected} bytes of weights but its shards (${group.paths.join(', ')}) hold ${groupBytes}; the folder is incomplete or mixed`,
        );
      }
      specs.push(...group.weights);
    }
    return [specs, buffers];
  });
  return { artifacts, hash };
}

function parseVocabulary(bytes: Buffer, file: string): Array<[string, number]> {
  const vocab = parseJson(bytes, file);
  if (!Array.isArray(vocab) || vocab.length === 0)
    throw new Error(`${file}: a vocabulary must be a non-empty array of [piece, score] pairs`);
  vocab.forEach((e, i) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number') {
      throw new Error(`${file}: entry ${i} must be [piece (string), score (number)], got ${JSON.stringify(e)}`);
    }
  });
  return vocab as Array<[string, number]>;
}

export class UseTextEncoder extends CachedTextEncoder {
  private constructor(
    readonly id: string,
    readonly dim: number,
    readonly dir: string,
    private readonly model: tf.GraphModel,
    private readonly tokenizer: Tokenizer,
  ) {
    super();
  }

  /** Loads model.json, its shards and vocab.json from `dir`; errors name any missing file. */
  static async load(dir: string): Promise<UseTextEncoder> {
    const abs = path.resolve(dir);
    const stat = await fsp.stat(abs).catch(() => null);
    if (!stat || !stat.isDirectory())
      throw new Error(
        `Universal Sentence Encoder folder '${abs}' does not exist (expected ${USE_MODEL_FILE}, weight shards and ${USE_VOCAB_FILE}; run scripts/download-use.ts)`,
      );
    const vocabFile = path.join(abs, USE_VOCAB_FILE);
    // Check the vocabulary first: it is the file people forget (the graph model loads without it).
    const vocabBytes = await readFileNamed(vocabFile, 'vocabulary');
    const vocab = parseVocabulary(vocabBytes, vocabFile);
    const { artifacts, hash } = await readGraphArtifacts(abs);
    hash.update(vocabBytes);
    let model: tf.GraphModel;
    try {
      model = await tf.loadGraphModel({ load: async () => artifacts });
    } catch (err) {
      throw new Error(`${path.join(abs, USE_MODEL_FILE)}: cannot build the graph model: ${(err as Error).message}`);
    }
    const names = model.inputs.map((i) => i.name);
    const sigKeys = Object.keys(
      (artifacts.signature as { inputs?: Record<string, unknown> } | undefined)?.inputs ?? {},
    );
    for (const want of ['indices', 'values']) {
      if (!names.includes(want) && !sigKeys.includes(want)) {
        model.dispose();
        throw new Error(
          `${path.join(abs, USE_MODEL_FILE)}: graph has no input '${want}' (inputs: ${names.join(', ')}); not a Universal Sentence Encoder lite model`,
        );
      }
    }
    const tokenizer = new Tokenizer(vocab);
    // The output width is whatever the graph gives: probe once with a one-token sentence.
    const probe = await UseTextEncoder.run(model, [[Math.min(vocab.length - 1, 6)]]);
    if (probe.rank !== 2 || probe.shape[0] !== 1) {
      const shape = probe.shape;
      probe.dispose();
      model.dispose();
      throw new Error(`${path.join(abs, USE_MODEL_FILE)}: output has shape [${shape}], expected [batch, dim]`);
    }
    const dim = probe.shape[1] as number;
    probe.dispose();
    const id = `use-lite:${hash.digest('hex').slice(0, 16)}`;
    return new UseTextEncoder(id, dim, abs, model, tokenizer);
  }

  /** SentencePiece ids of a name (the package's tokenizer). */
  tokenize(name: string): number[] {
    return this.tokenizer.encode(name);
  }

  private static async run(model: tf.GraphModel, encodings: number[][]): Promise<tf.Tensor> {
    const flatIdx: number[] = [];
    const flatVal: number[] = [];
    encodings.forEach((ids, i) =>
      ids.forEach((id, j) => {
        flatIdx.push(i, j);
        flatVal.push(id);
      }),
    );
    const indices = tf.tensor2d(flatIdx, [flatVal.length, 2], 'int32');
    const values = tf.tensor1d(flatVal, 'int32');
    try {
      let out: tf.Tensor | tf.Tensor[];
      try {
        out = model.execute({ indices, values });
      } catch (err) {
        // Graphs with control flow or dynamic shapes must run asynchronously.
        if (!/executeAsync/.test((err as Error).message)) throw err;
        out = await model.executeAsync({ indices, values });
      }
      if (Array.isArray(out)) {
        out.slice(1).forEach((t) => t.dispose());
        return out[0];
      }
      return out as tf.Tensor;
    } finally {
      indices.dispose();
      values.dispose();
    }
  }

  protected async compute(names: readonly string[]): Promise<Float32Array[]> {
    const encodings = names.map((n) => this.tokenizer.encode(n));
    encodings.forEach((e, i) => {
      // Every non-empty string yields at least one piece (unknown characters give <unk>).
      if (e.length === 0) throw new Error(`${this.id}: the tokenizer produced no tokens for '${names[i]}'`);
    });
    const out = await UseTextEncoder.run(this.model, encodings);
    try {
      if (out.rank !== 2 || out.shape[0] !== names.length || out.shape[1] !== this.dim) {
        throw new Error(`${this.id}: output has shape [${out.shape}], expected [${names.length}, ${this.dim}]`);
      }
      const flat = (await out.data()) as Float32Array;
      return names.map((_, i) => flat.slice(i * this.dim, (i + 1) * this.dim));
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
