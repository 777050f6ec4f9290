import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { batchObservations } from '../../src/agent/observation';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { DEFAULT_NET_CONFIG, PromptNet, PromptNetConfig } from '../../src/agent/networks/prompt-net';
import { Rng } from '../../src/utils/rng';
import { maxAbsDiff, randomObservation } from './helpers';

beforeAll(async () => {
  await initBackend('wasm');
});

const small: PromptNetConfig = {
  ...DEFAULT_NET_CONFIG,
  gridSize: 4,
  embedChannels: 8,
  projChannels: 6,
  embedConvChannels: [5, 5],
  gridConvChannels: [7, 6],
  valueHidden: 9,
  head: 'actor-critic',
};

function makeObs(seed: number, n: number, cfg: PromptNetConfig, keys: string[], h = 12, w = 12): PromptObservation[] {
  const rng = new Rng(seed);
  const tensors = new Map<string, tf.Tensor>();
  const out: PromptObservation[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[i % keys.length];
    const o = randomObservation(rng, {
      key,
      h,
      w,
      c: cfg.embedChannels,
      g: cfg.gridSize,
      nActions: cfg.logitsPerCell * cfg.gridSize ** 2,
      textDim: cfg.textDim,
      tensor: tensors.get(key),
    });
    tensors.set(key, o.embedding.tensor);
    out.push(o);
  }
  return out;
}

function disposeObs(obs: PromptObservation[]): void {
  const seen = new Set<tf.Tensor>();
  for (const o of obs)
    if (!seen.has(o.embedding.tensor)) {
      seen.add(o.embedding.tensor);
      o.embedding.tensor.dispose();
    }
}

describe('PromptNet', () => {
  it('produces [B, G*G] logits and [B] values, deterministically from the seed', () => {
    const obs = makeObs(1, 3, small, ['a', 'b', 'c']);
    const net1 = new PromptNet(small, new Rng(11));
    const net2 = new PromptNet(small, new Rng(11));
    const batch = batchObservations(obs, net1.dims(12, 12));
    tf.tidy(() => {
      const o1 = net1.forward(batch);
      const o2 = net2.forward(batch);
      expect(o1.logits.shape).toEqual([3, 16]);
      expect(o1.values!.shape).toEqual([3]);
      expect(Array.from(o1.logits.dataSync())).toEqual(Array.from(o2.logits.dataSync()));
      expect(Array.from(o1.values!.dataSync())).toEqual(Array.from(o2.values!.dataSync()));
    });
    net1.dispose();
    net2.dispose();
    disposeObs(obs);
  });

  it('gives each sample the same output whether batched with shared embeddings or alone', () => {
    const obs = makeObs(2, 5, small, ['x', 'y']);
    const net = new PromptNet(small, new Rng(3));
    const dims = net.dims(12, 12);
    tf.tidy(() => {
      const all = net.forward(batchObservations(obs, dims));
      const allL = all.logits.dataSync();
      const allV = all.values!.dataSync();
      obs.forEach((o, i) => {
        const one = net.forward(batchObservations([o], dims));
        expect(maxAbsDiff(one.logits.dataSync(), allL.slice(i * 16, (i + 1) * 16))).toBeLessThan(1e-5);
        expect(Math.abs(one.values!.dataSync()[0] - allV[i])).toBeLessThan(1e-5);
      });
    });
    net.dispose();
    disposeObs(obs);
  });

  it('reuses cached projections only while the weights are unchanged', () => {
    const obs = makeObs(3, 4, small, ['p', 'q']);
    const net = new PromptNet(small, new Rng(4));
    const batch = batchObservations(obs, net.dims(12, 12));
    const fresh = (): Float32Array => tf.tidy(() => net.forward(batch).logits.dataSync() as Float32Array);
    const cached = (): Float32Array =>
      tf.tidy(() => net.forward(batch, { useCache: true }).logits.dataSync() as Float32Array);
    expect(maxAbsDiff(cached(), fresh())).toBe(0);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) cached();
    expect(tf.memory().numTensors).toBe(before);
    // Change the projection: the cache must not serve stale values.
    const w = net.params.get('proj/w');
    tf.tidy(() => w.assign(tf.mul(w, 3)));
    const stale = cached();
    expect(maxAbsDiff(stale, fresh())).toBe(0);
    net.dispose();
    disposeObs(obs);
  });

  it('orders two labels per cell label-major or cell-major from the same weights', () => {
    const cfgA: PromptNetConfig = { ...small, logitsPerCell: 2, actionLayout: 'label-major' };
    const cfgB: PromptNetConfig = { ...cfgA, actionLayout: 'cell-major' };
    const obs = makeObs(4, 2, cfgA, ['k']);
    const a = new PromptNet(cfgA, new Rng(9));
    const b = new PromptNet(cfgB, new Rng(9));
    const batch = batchObservations(obs, a.dims(12, 12));
    tf.tidy(() => {
      const la = a.forward(batch).logits.dataSync();
      const lb = b.forward(batch).logits.dataSync();
      expect(a.nActions).toBe(32);
      for (let r = 0; r < 2; r++)
        for (let cell = 0; cell < 16; cell++)
          for (let lab = 0; lab < 2; lab++) {
            expect(la[r * 32 + lab * 16 + cell]).toBe(lb[r * 32 + cell * 2 + lab]);
          }
    });
    a.dispose();
    b.dispose();
    disposeObs(obs);
  });

  it('uses the text vector through FiLM', () => {
    const cfg: PromptNetConfig = { ...small, textDim: 3 };
    const obs = makeObs(5, 1, cfg, ['t']);
    const net = new PromptNet(cfg, new Rng(2));
    const dims = net.dims(12, 12);
    tf.tidy(() => {
      const l1 = net.forward(batchObservations(obs, dims)).logits.dataSync();
      const other = { ...obs[0], textVector: Float32Array.from([5, -5, 5]) };
      const l2 = net.forward(batchObservations([other], dims)).logits.dataSync();
      expect(maxAbsDiff(l1, l2)).toBeGreaterThan(1e-6);
    });
    expect(() => batchObservations([{ ...obs[0], textVector: undefined }], dims)).toThrow(/textVector/);
    net.dispose();
    disposeObs(obs);
  });

  it('names the bad field when an observation does not fit', () => {
    const obs = makeObs(6, 1, small, ['z']);
    const net = new PromptNet(small, new Rng(2));
    expect(() => batchObservations([{ ...obs[0], maskProbs: new Float32Array(5) }], net.dims(12, 12))).toThrow(
      /maskProbs.*length 5, expected 144/,
    );
    expect(() => batchObservations(obs, net.dims(10, 12))).toThrow(
      /embedding 'z' is \[12, 12, 8\], expected \[10, 12, 8\]/,
    );
    expect(() => new PromptNet({ ...small, gridConvChannels: [] }, new Rng(1))).toThrow(/gridConvChannels/);
    net.dispose();
    disposeObs(obs);
  });

  it.each([
    ['actor-critic, 1 logit per cell, no text', { head: 'actor-critic' as const }],
    ['q head, 2 per cell, text', { head: 'q' as const, logitsPerCell: 2 as const, textDim: 3 }],
  ])('trains on wasm with the same gradients as the cpu backend (%s)', async (_name, over) => {
    const cfg: PromptNetConfig = { ...small, ...over };
    const gradsOn = async (backend: 'cpu' | 'wasm'): Promise<Map<string, Float32Array>> => {
      await initBackend(backend);
      const obs = makeObs(7, 4, cfg, ['m', 'n', 'm', 'o'], 20, 20);
      const net = new PromptNet(cfg, new Rng(8));
      const batch = batchObservations(obs, net.dims(20, 20));
      const r = new Rng(99);
      const rl = Float32Array.from({ length: 4 * net.nActions }, () => r.normal());
      const rv = Float32Array.from({ length: 4 }, () => r.normal());
      const out = new Map<string, Float32Array>();
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const o = net.forward(batch);
          let loss = tf.sum(tf.mul(o.logits, tf.tensor2d(rl, [4, net.nActions])));
          if (o.values) loss = tf.add(loss, tf.sum(tf.mul(o.values, tf.tensor1d(rv))));
          return loss as tf.Scalar;
        }, net.params.variables());
        for (const [k, g] of Object.entries(grads)) out.set(net.params.logicalName(k), g.dataSync() as Float32Array);
      });
      net.dispose();
      disposeObs(obs);
      return out;
    };
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
    for (const [name, g] of got) {
      const scale = Math.max(1e-3, ...Array.from(ref.get(name)!, Math.abs));
      expect(maxAbsDiff(g, ref.get(name)!) / scale).toBeLessThan(1e-4);
      expect(g.some((v) => v !== 0)).toBe(true);
    }
  });
});
