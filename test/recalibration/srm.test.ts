/** The SRM as a labeler and a trainable module, on small random embeddings (fast). */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { resolveSrmConfig, withSavedState } from '../../src/recalibration/srm-config';
import { SemanticRecalibrationModule, type SrmObservation } from '../../src/recalibration/srm';
import { loadSrm, loadSrmInto, saveSrm } from '../../src/recalibration/srm-io';
import { Rng } from '../../src/utils/rng';

const E = 8;
const D = 12;
const G = 4;
const TEXT = 6;

let tmp: string;
const kept: tf.Tensor[] = [];

beforeAll(async () => {
  await initBackend('wasm');
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'srm-test-'));
});

afterAll(async () => {
  tf.dispose(kept);
  await fsp.rm(tmp, { recursive: true, force: true });
});

function embedding(key: string, seed: number): { key: string; tensor: tf.Tensor } {
  const rng = new Rng(seed);
  const t = tf.tensor3d(
    Float32Array.from({ length: E * E * D }, () => rng.normal()),
    [E, E, D],
  );
  kept.push(t);
  return { key, tensor: t };
}

function obs(emb: { key: string; tensor: tf.Tensor }, seed: number, text?: number): SrmObservation {
  const rng = new Rng(seed);
  return {
    embedding: emb,
    maskProbs: Float32Array.from({ length: E * E }, () => rng.random()),
    textVector: text === undefined ? undefined : Float32Array.from({ length: TEXT }, (_, i) => (i === text ? 1 : 0)),
  };
}

/** Cell truths that depend on the embedding, so there is something to learn. */
function truth(emb: { tensor: tf.Tensor }): Float32Array {
  return tf.tidy(() => {
    const c0 = tf.slice(emb.tensor, [0, 0, 0], [E, E, 1]).reshape([1, E, E, 1]) as tf.Tensor4D;
    const pooled = tf.avgPool(c0, E / G, E / G, 'valid');
    return Float32Array.from(pooled.dataSync(), (v) => (v > 0 ? 1 : 0));
  });
}

const implicitConfig = {
  gridSize: G,
  embedChannels: D,
  projChannels: 8,
  channels: 8,
  batchSize: 4,
  replayCapacity: 16,
  seed: 3,
};
const explicitConfig = {
  ...implicitConfig,
  branch: 'explicit' as const,
  textDim: TEXT,
  attentionDim: 8,
  textEncoder: { id: 'hashed-ngram-v1:d6:n1-4', dim: TEXT },
};

describe('SemanticRecalibrationModule as a labeler', () => {
  it.each(['implicit', 'implicit-gated', 'explicit', 'explicit-per-sample-attention'] as const)(
    '%s: scores are probabilities, labels threshold the clicked cell, batching changes nothing',
    async (variant) => {
      const branch = variant.startsWith('implicit') ? 'implicit' : 'explicit';
      const state = variant === 'implicit-gated' ? 'gated' : 'embedding';
      // G = 12: 144 cells exceed the rows one attention block holds, so each sample attends alone.
      const g = variant === 'explicit-per-sample-attention' ? 12 : G;
      const srm = new SemanticRecalibrationModule(
        branch === 'implicit' ? { ...implicitConfig, state } : { ...explicitConfig, gridSize: g },
      );
      try {
        const a = embedding('a', 1);
        const b = embedding('b', 2);
        const text = branch === 'explicit' ? 1 : undefined;
        // The same image twice (gather path), another image, and a different mask on the first.
        const batch = [obs(a, 10, text), obs(b, 11, text), obs(a, 12, text)];
        const scores = await srm.scoreCells(batch);
        expect(scores).toHaveLength(3);
        for (const s of scores) {
          expect(s).toHaveLength(g * g);
          for (const v of s) expect(v > 0 && v < 1).toBe(true);
        }
        for (let i = 0; i < 3; i++) {
          const [alone] = await srm.scoreCells([batch[i]]);
          for (let c = 0; c < g * g; c++) expect(alone[c]).toBeCloseTo(scores[i][c], 5);
        }
        // The previous mask gates the paper's state; the default state reads the embedding alone.
        if (state === 'gated') expect(Array.from(scores[0])).not.toEqual(Array.from(scores[2]));
        else expect(Array.from(scores[0])).toEqual(Array.from(scores[2]));
        const requests = [0, 5, 15].map((cell, i) => ({ observation: batch[i] as never, cell }));
        const labels = await srm.labelClicks(requests);
        expect(labels).toEqual(requests.map((r, i) => (scores[i][r.cell] >= 0.5 ? 1 : 0)));
        await expect(srm.labelClicks([{ observation: batch[0] as never, cell: g * g }])).rejects.toThrow(
          new RegExp(`cell ${g * g}, outside \\[0, ${g * g}\\)`),
        );
      } finally {
        srm.dispose();
      }
    },
  );

  it('explicit: the text vector changes the scores, and a missing one is a clear error', async () => {
    const srm = new SemanticRecalibrationModule(explicitConfig);
    try {
      const a = embedding('t', 4);
      const [s0, s1] = await srm.scoreCells([obs(a, 1, 0), obs(a, 1, 3)]);
      expect(Array.from(s0)).not.toEqual(Array.from(s1));
      await expect(srm.scoreCells([obs(a, 1)])).rejects.toThrow(
        /needs a text vector of length 6, got none \(is the env's textDim set\?\)/,
      );
      expect(() => srm.checkTextEncoder({ id: 'use-lite:0000', dim: TEXT }, 'run')).toThrow(
        /run: was trained with text encoder 'hashed-ngram-v1:d6:n1-4'/,
      );
      expect(() => srm.checkTextEncoder({ id: 'hashed-ngram-v1:d6:n1-4', dim: TEXT })).not.toThrow();
    } finally {
      srm.dispose();
    }
  });

  it('rejects mismatched inputs with messages naming the field', async () => {
    const srm = new SemanticRecalibrationModule(implicitConfig);
    try {
      const a = embedding('m', 5);
      await expect(srm.scoreCells([{ embedding: a, maskProbs: new Float32Array(3) }])).rejects.toThrow(
        /maskProbs has 3 values, expected B\*He\*We = 1\*8\*8/,
      );
      const wrong = { key: 'w', tensor: tf.zeros([E, E, D + 1]) };
      kept.push(wrong.tensor);
      await expect(srm.scoreCells([{ embedding: wrong, maskProbs: new Float32Array(E * E) }])).rejects.toThrow(
        /has 13 channels .* expects 12/,
      );
      expect(() => srm.update()).toThrow(/empty \(record observations before updating\)/);
      expect(() => srm.record([obs(a, 1)], [new Float32Array(3)])).toThrow(
        /ground truth 0 has 3 values, expected G\*G = 16/,
      );
    } finally {
      srm.dispose();
    }
  });

  it('validates its config', () => {
    expect(() => resolveSrmConfig({ gridSize: 0, embedChannels: 4 })).toThrow(
      /'gridSize': expected an integer >= 1, got 0/,
    );
    expect(() => resolveSrmConfig({ gridSize: 4, embedChannels: 4, branch: 'explicit' })).toThrow(
      /'textDim': must be > 0 for the explicit branch/,
    );
    expect(() => resolveSrmConfig({ gridSize: 4, embedChannels: 4, threshold: 1 })).toThrow(
      /'threshold': expected a number in \(0, 1\), got 1/,
    );
    expect(resolveSrmConfig({ gridSize: 4, embedChannels: 4, textDim: 8 }).updatesPerStep).toBe(5);
    expect(resolveSrmConfig({ gridSize: 4, embedChannels: 4 }).updatesPerStep).toBe(1);
  });
});

describe('SemanticRecalibrationModule training', () => {
  it.each(['implicit', 'explicit'] as const)(
    '%s: fits a small replay, memory flat over many updates, deterministic',
    async (branch) => {
      const make = () =>
        new SemanticRecalibrationModule({
          ...(branch === 'implicit' ? implicitConfig : explicitConfig),
          learningRate: 3e-3,
        });
      const srm = make();
      const twin = make();
      try {
        const embs = Array.from({ length: 6 }, (_, i) => embedding(`${branch}${i}`, 100 + i));
        const data = embs.map((e, i) => obs(e, 200 + i, branch === 'explicit' ? i % 2 : undefined));
        const truths = embs.map(truth);
        srm.record(data, truths);
        twin.record(data, truths);
        const first = srm.update(3).loss;
        twin.update(3);
        const before = tf.memory().numTensors;
        let last = first;
        for (let i = 0; i < 25; i++) last = srm.update(2).loss;
        for (let i = 0; i < 25; i++) twin.update(2);
        expect(tf.memory().numTensors).toBe(before);
        expect(last).toBeLessThan(first * 0.8);
        expect(srm.updates).toBe(53);
        // Same seed, same data, same updates: identical weights.
        const wa = srm.serialize().weights;
        const wb = twin.serialize().weights;
        for (const [name, t] of wa)
          expect(Array.from(t.data as Float32Array)).toEqual(Array.from(wb.get(name)!.data as Float32Array));
        // Scoring between updates keeps only bounded caches (explicit): one pooled embedding per
        // image and the attention mask for a new group size.
        const n0 = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) {
          srm.observe([data[i]], [truths[i]]);
          await srm.scoreCells(data);
        }
        const n1 = tf.memory().numTensors;
        expect(n1 - n0).toBeLessThanOrEqual(branch === 'explicit' ? embs.length + 1 : 0);
        for (let i = 0; i < 5; i++) {
          srm.observe([data[i]], [truths[i]]);
          await srm.scoreCells(data);
        }
        expect(tf.memory().numTensors).toBe(n1);
      } finally {
        srm.dispose();
        twin.dispose();
      }
    },
  );

  it('replay releases embeddings it no longer holds', () => {
    const srm = new SemanticRecalibrationModule({ ...implicitConfig, replayCapacity: 3 });
    try {
      const before = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) srm.record([obs(embedding(`r${i}`, 300 + i), i)], [new Float32Array(G * G)]);
      expect(srm.replaySize).toBe(3);
      // 10 test embeddings were created; the replay holds shared handles to the 3 latest only.
      expect(tf.memory().numTensors - before).toBe(10 + 3);
    } finally {
      srm.dispose();
    }
  });
});

describe('SRM save, load, serialize', () => {
  it('round-trips weights and optimizer state; resumed training matches uninterrupted training', async () => {
    const embs = Array.from({ length: 4 }, (_, i) => embedding(`s${i}`, 400 + i));
    const data = embs.map((e, i) => obs(e, 500 + i, i % 2));
    const truths = embs.map(truth);
    const a = new SemanticRecalibrationModule(explicitConfig);
    a.record(data, truths);
    a.update(4);
    const dir = path.join(tmp, 'ckpt');
    await saveSrm(a, dir);
    const b = await loadSrm(dir, { textEncoder: { id: 'hashed-ngram-v1:d6:n1-4', dim: TEXT } });
    try {
      expect(b.config).toEqual(a.config);
      expect(b.updates).toBe(4);
      const [sa] = await a.scoreCells([data[0]]);
      const [sb] = await b.scoreCells([data[0]]);
      expect(Array.from(sb)).toEqual(Array.from(sa));
      // The replay is saved with its embeddings: both go on from the same replay and RNG.
      expect(b.replaySize).toBe(a.replaySize);
      a.record(data.slice(0, 2), truths.slice(0, 2));
      b.record(data.slice(0, 2), truths.slice(0, 2));
      a.update(3);
      b.update(3);
      const wa = a.serialize().weights;
      for (const [name, t] of b.serialize().weights)
        expect(Array.from(t.data as Float32Array)).toEqual(Array.from(wa.get(name)!.data as Float32Array));
      await expect(loadSrm(dir, { textEncoder: { id: 'use-lite:abc', dim: TEXT } })).rejects.toThrow(
        /was trained with text encoder 'hashed-ngram-v1:d6:n1-4' .* 'use-lite:abc'/,
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('loads a pre-trained SRM into one that differs only in online settings, and refuses any other difference', async () => {
    const embs = Array.from({ length: 3 }, (_, i) => embedding(`p${i}`, 800 + i));
    const examples = embs.map((e, i) => ({ observation: obs(e, 810 + i), cellTruth: truth(e) }));
    const pretrained = new SemanticRecalibrationModule({ ...implicitConfig, updatesPerStep: 1 });
    pretrained.fit(examples, { updates: 3, batchSize: 2 });
    const dir = path.join(tmp, 'pretrained');
    await saveSrm(pretrained, dir);
    const online = { updatesPerStep: 0, batchSize: 2, replayCapacity: 4 };
    const b = new SemanticRecalibrationModule({ ...implicitConfig, ...online });
    const other = new SemanticRecalibrationModule({ ...implicitConfig, ...online, cellTruth: 'centre' });
    try {
      await loadSrmInto(b, dir);
      expect(b.config.updatesPerStep).toBe(0); // its own online settings stay
      expect(b.updates).toBe(3);
      const [sa] = await pretrained.scoreCells([examples[0].observation]);
      const [sb] = await b.scoreCells([examples[0].observation]);
      expect(Array.from(sb)).toEqual(Array.from(sa));
      await expect(loadSrmInto(other, dir)).rejects.toThrow(/saved SRM's config differs from this run's/);
    } finally {
      pretrained.dispose();
      b.dispose();
      other.dispose();
    }
  });

  it("reads a saved config from before cellTruth existed as 'area'", () => {
    const saved = resolveSrmConfig(implicitConfig) as Partial<ReturnType<typeof resolveSrmConfig>>;
    delete saved.cellTruth;
    expect(withSavedState(saved as ReturnType<typeof resolveSrmConfig>).cellTruth).toBe('area');
  });

  it('saves weights only for an export: it labels as the checkpoint does and trains on from fresh moments', async () => {
    const embs = Array.from({ length: 3 }, (_, i) => embedding(`w${i}`, 700 + i));
    const data = embs.map((e, i) => obs(e, 710 + i));
    const truths = embs.map(truth);
    const a = new SemanticRecalibrationModule(implicitConfig);
    a.record(data, truths);
    a.update(3);
    const dir = path.join(tmp, 'weights-only');
    await saveSrm(a, dir, { contents: 'weights' });
    expect((await fsp.readdir(dir)).sort()).toEqual(['srm.json', 'weights.safetensors']);
    const b = await loadSrm(dir);
    try {
      expect(b.config).toEqual(a.config);
      const [sa] = await a.scoreCells([data[0]]);
      const [sb] = await b.scoreCells([data[0]]);
      expect(Array.from(sb)).toEqual(Array.from(sa));
      expect(b.replaySize).toBe(0);
      b.record(data, truths);
      b.update(1);
      const [after] = await b.scoreCells([data[0]]);
      expect(Array.from(after)).not.toEqual(Array.from(sa));
      const json = JSON.parse(await fsp.readFile(path.join(dir, 'srm.json'), 'utf8'));
      json.state.weightsOnly = 'yes';
      await fsp.writeFile(path.join(dir, 'srm.json'), JSON.stringify(json));
      await expect(loadSrm(dir)).rejects.toThrow(/srm\.json: 'state\.weightsOnly' must be a boolean/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('names the bad tensor or field of a broken checkpoint and leaves nothing behind', async () => {
    const a = new SemanticRecalibrationModule(implicitConfig);
    const dir = path.join(tmp, 'broken');
    await saveSrm(a, dir);
    a.dispose();
    const weightsFile = path.join(dir, 'weights.safetensors');
    const rec = (await readSafetensors(weightsFile)).tensors;
    rec.delete('block1/w');
    await writeSafetensors(weightsFile, rec);
    const before = tf.memory().numTensors;
    await expect(loadSrm(dir)).rejects.toThrow(/weights\.safetensors: missing tensor 'block1\/w'/);
    expect(tf.memory().numTensors).toBe(before);
    const json = JSON.parse(await fsp.readFile(path.join(dir, 'srm.json'), 'utf8'));
    json.config.channels = -1;
    await fsp.writeFile(path.join(dir, 'srm.json'), JSON.stringify(json));
    await expect(loadSrm(dir)).rejects.toThrow(/srm\.json: config option 'channels': expected an integer >= 1/);
    await expect(loadSrm(path.join(tmp, 'none'))).rejects.toThrow(/srm\.json: cannot read/);
  });

  it('serialize/deserialize reproduces the scores (export path, no fs)', async () => {
    const a = new SemanticRecalibrationModule(implicitConfig);
    const o = obs(embedding('x', 9), 9);
    const s = a.serialize();
    const b = SemanticRecalibrationModule.deserialize(s);
    expect(Array.from((await b.scoreCells([o]))[0])).toEqual(Array.from((await a.scoreCells([o]))[0]));
    expect(() => SemanticRecalibrationModule.deserialize({ ...s, format: 'x' as never })).toThrow(
      /not a serialized SRM/,
    );
    a.dispose();
    b.dispose();
  });
});
