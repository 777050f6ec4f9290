/**
 * The SRM's network: a foreground logit for every cell of the G x G action grid.
 *
 * Shared start, the state: SAM's embedding E [He, We, D] (config `state: 'embedding'`, the
 * default) or the AlignSAM state s_t = E * M_{t-1} gated by the previous mask ('gated'), average-pooled by the largest power of two f that keeps the grid >= G (64 -> 16
 * for SAM and G = 10), then a 1x1 projection D -> p. Pooling, gating and the projection are
 * linear, so pool(proj(E) * m) = proj(pool(E * m)): we pool the gated embedding first (no
 * gradient flows into E) and project the 16x smaller result, instead of projecting and
 * back-propagating through every full-resolution pixel (5x faster updates on wasm).
 *
 * Implicit branch (no target name), the paper's "two conv blocks over s_t":
 *   s_t -> 3x3 conv + ReLU, twice -> adaptive pool to G x G
 *   -> per-cell head: 1x1 (cell features ++ grid mean features) + ReLU -> 1x1 -> logit
 * (the grid-mean input is `globalContext`, on by default: it lets the head compare a cell with the
 * whole image, which two local convs cannot).
 *
 * Explicit branch (named target). The paper builds a semantic state s_c = E * M_c from CLIP
 * Surgery's image-text similarity map M_c; CLIP has no tfjs port here, so M_c is a LEARNED
 * text-image similarity map instead, on the pooled grid, with x = proj(pool(E)):
 *   M_c = sigmoid(<W_k x_ij, W_q t> / sqrt(a) + b)   per cell ij, t the text vector,
 *   s_c = x * M_c,
 * and then the paper's fusion: [s_t, s_c] -> three 3x3 convs (the first FiLM-modulated by t, so
 * the text also steers the features, not only the gate) -> adaptive pool to G x G -> one
 * self-attention layer over the G*G cells (learned cell positions, residual) -> two 3x3 convs ->
 * 1x1 -> logit.
 *
 * Every matrix product is a plain 2-D matMul in both passes (fast on wasm; see nn/matmul.ts), and
 * every trained conv is the forward-only-gradient conv2d of src/tfjs-ops (wasm has no
 * Conv2DBackpropFilter kernel).
 */
import * as tf from '@tensorflow/tfjs';
import { orthogonalConv, orthogonalDense } from '../nn/init';
import { ParamSet } from '../nn/params';
import { adaptivePool2dMatrixT } from '../nn/pooling';
import { conv2d } from '../tfjs-ops/conv2d';
import { Rng } from '../utils/rng';
import { matMul2d, matMulConstLeft } from '../nn/matmul';
import type { SrmConfig } from './srm-config';

/** What the network reads: B states, embeddings by reference (never copied). */
export interface SrmInputBatch {
  size: number;
  /** One [He, We, D] (or [1, He, We, D]) embedding per sample; equal keys must mean equal tensors. */
  embeddings: ReadonlyArray<{ key: string; tensor: tf.Tensor }>;
  /** [B * He * We] previous mask probabilities on the embedding grid. */
  maskProbs: Float32Array;
  /** [B * textDim], explicit branch only. */
  textVectors: Float32Array | null;
}

const SQRT2 = Math.SQRT2;
/** Most token rows that share one attention score matrix: block-diagonal masking wastes work quadratically, per-sample matMuls cost op overhead; small groups measured best. */
const ATTENTION_ROWS = 128;

export class SrmNet {
  readonly params: ParamSet;
  /** Constant matrices (pooling, attention masks), kept. */
  private readonly poolMats = new Map<string, tf.Tensor2D>();
  /** pool(E) per image key (explicit branch): independent of the weights, so valid while training too. */
  private readonly pooledCache = new Map<string, tf.Tensor4D>();
  /** Images whose pooled embedding is kept. */
  pooledCacheSize = 64;

  constructor(
    readonly config: SrmConfig,
    label = 'srm',
  ) {
    const c = config;
    const rng = new Rng(c.seed);
    const p = new ParamSet(label);
    this.params = p;
    const zeros = (n: number) => new Float32Array(n);
    const conv = (name: string, cin: number, cout: number, gain = SQRT2) => {
      p.add(`${name}/w`, [3, 3, cin, cout], orthogonalConv(3, 3, cin, cout, gain, rng));
      p.add(`${name}/b`, [cout], zeros(cout));
    };
    const dense = (name: string, cin: number, cout: number, gain: number) => {
      p.add(`${name}/w`, [cin, cout], orthogonalDense(cin, cout, gain, rng));
      p.add(`${name}/b`, [cout], zeros(cout));
    };
    // Linear: the mask multiplies its output.
    p.add('proj/w', [c.embedChannels, c.projChannels], orthogonalDense(c.embedChannels, c.projChannels, 1, rng));
    const ch = c.channels;
    if (c.branch === 'implicit') {
      conv('block0', c.projChannels, ch);
      conv('block1', ch, ch);
      dense('head0', c.globalContext ? 2 * ch : ch, ch, SQRT2);
      dense('head1', ch, 1, 1);
    } else {
      const a = c.attentionDim;
      dense('sim/q', c.textDim, a, 1);
      p.add('sim/k', [c.projChannels, a], orthogonalDense(c.projChannels, a, 1, rng));
      p.add('sim/b', [1], zeros(1));
      conv('fuse0', 2 * c.projChannels, ch);
      dense('film', c.textDim, 2 * ch, 0.1);
      conv('fuse1', ch, ch);
      conv('fuse2', ch, ch);
      const g2 = c.gridSize * c.gridSize;
      p.add(
        'attn/pos',
        [g2, ch],
        Float32Array.from({ length: g2 * ch }, () => 0.02 * rng.normal()),
      );
      p.add('attn/q', [ch, a], orthogonalDense(ch, a, 1, rng));
      p.add('attn/k', [ch, a], orthogonalDense(ch, a, 1, rng));
      p.add('attn/v', [ch, a], orthogonalDense(ch, a, 1, rng));
      dense('attn/o', a, ch, 1);
      conv('post0', ch, ch);
      conv('post1', ch, ch);
      dense('head', ch, 1, 1);
    }
  }

  /** [inH*inW, G*G] adaptive-average-pooling matrix (transposed), kept. */
  private poolMatrix(h: number, w: number): tf.Tensor2D {
    const g = this.config.gridSize;
    const key = `${h}x${w}`;
    let m = this.poolMats.get(key);
    if (!m) {
      m = tf.keep(tf.tensor2d(adaptivePool2dMatrixT(h, w, g, g), [h * w, g * g]));
      this.poolMats.set(key, m);
    }
    return m;
  }

  /** x [B, h, w, C] -> [B, G, G, C] by adaptive average pooling (plain 2-D matMuls). */
  private poolToGrid(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const g = this.config.gridSize;
    if (h === g && w === g) return x;
    const xt = tf.reshape(tf.transpose(tf.reshape(x, [b, h * w, c]), [0, 2, 1]), [b * c, h * w]) as tf.Tensor2D;
    const pooled = tf.reshape(matMul2d(xt, this.poolMatrix(h, w)), [b, c, g * g]);
    return tf.reshape(tf.transpose(pooled, [0, 2, 1]), [b, g, g, c]);
  }

  /** [n*g2, n*g2]: 0 within a sample's block, -1e9 across samples (kept, per n). */
  private blockMask(n: number, g2: number): tf.Tensor2D {
    const key = `mask:${n}x${g2}`;
    let m = this.poolMats.get(key);
    if (!m) {
      const rows = n * g2;
      const data = new Float32Array(rows * rows).fill(-1e9);
      for (let i = 0; i < n; i++) {
        for (let r = i * g2; r < (i + 1) * g2; r++) data.fill(0, r * rows + i * g2, r * rows + (i + 1) * g2);
      }
      m = tf.keep(tf.tensor2d(data, [rows, rows]));
      this.poolMats.set(key, m);
    }
    return m;
  }

  private denseLayer(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return tf.add(matMul2d(x, this.params.get(`${name}/w`) as tf.Tensor2D), this.params.get(`${name}/b`));
  }

  private convLayer(x: tf.Tensor4D, name: string): tf.Tensor4D {
    return tf.add(conv2d(x, this.params.get(`${name}/w`) as tf.Tensor4D, 'same'), this.params.get(`${name}/b`));
  }

  /** The pooling factor: the largest power of two that keeps both sides >= G. */
  poolFactor(h: number, w: number): number {
    const g = this.config.gridSize;
    let f = 1;
    while (Math.floor(h / (2 * f)) >= g && Math.floor(w / (2 * f)) >= g) f *= 2;
    return f;
  }

  /** pool(E) of one image, [1, h, w, D], from the cache when allowed. */
  private pooledPlain(
    ref: { key: string; tensor: tf.Tensor },
    he: number,
    we: number,
    f: number,
    useCache: boolean,
  ): tf.Tensor4D {
    const hit = useCache ? this.pooledCache.get(ref.key) : undefined;
    if (hit) {
      // Most recently used goes last, so eviction takes the oldest.
      this.pooledCache.delete(ref.key);
      this.pooledCache.set(ref.key, hit);
      return hit;
    }
    const d = ref.tensor.shape[ref.tensor.rank - 1];
    const e4 = tf.reshape(ref.tensor, [1, he, we, d]) as tf.Tensor4D;
    const pooled = f === 1 ? e4 : (tf.avgPool(e4, f, f, 'valid') as tf.Tensor4D);
    if (useCache) {
      while (this.pooledCache.size >= this.pooledCacheSize) {
        const [oldest, t] = this.pooledCache.entries().next().value as [string, tf.Tensor4D];
        t.dispose();
        this.pooledCache.delete(oldest);
      }
      this.pooledCache.set(ref.key, tf.keep(pooled));
    }
    return pooled;
  }

  clearCache(): void {
    for (const t of this.pooledCache.values()) t.dispose();
    this.pooledCache.clear();
  }

  /**
   * Cell logits [B, G*G]. Call inside tf.tidy or a gradient function. `useCache` keeps pooled
   * embeddings per image key (explicit branch) between calls; they never depend on the weights.
   */
  forward(batch: SrmInputBatch, opts: { useCache?: boolean } = {}): tf.Tensor2D {
    const c = this.config;
    const b = batch.size;
    if (b < 1 || batch.embeddings.length !== b)
      throw new Error(`SRM: batch of ${b} has ${batch.embeddings.length} embeddings`);
    const s0 = batch.embeddings[0].tensor.shape;
    const d = s0[s0.length - 1];
    if (d !== c.embedChannels)
      throw new Error(
        `SRM: embedding '${batch.embeddings[0].key}' has ${d} channels [${s0}], the SRM expects ${c.embedChannels}`,
      );
    const he = s0[s0.length - 3];
    const we = s0[s0.length - 2];
    if (batch.maskProbs.length !== b * he * we)
      throw new Error(`SRM: maskProbs has ${batch.maskProbs.length} values, expected B*He*We = ${b}*${he}*${we}`);
    if (c.branch === 'explicit') {
      if (!batch.textVectors || batch.textVectors.length !== b * c.textDim) {
        throw new Error(
          `SRM (explicit): needs a text vector of length ${c.textDim} per observation, got ${batch.textVectors ? batch.textVectors.length / b : 'none'}`,
        );
      }
    }
    batch.embeddings.forEach((ref) => {
      const s = ref.tensor.shape;
      if (ref.tensor.isDisposed) throw new Error(`SRM: embedding '${ref.key}' was disposed`);
      if (
        s[s.length - 1] !== d ||
        s[s.length - 3] !== he ||
        s[s.length - 2] !== we ||
        ref.tensor.size !== he * we * d
      ) {
        throw new Error(
          `SRM: embeddings in one batch must share a shape; '${ref.key}' is [${s}], not [${he}, ${we}, ${d}]`,
        );
      }
    });
    const f = this.poolFactor(he, we);
    const h = Math.floor(he / f);
    const w = Math.floor(we / f);
    const p = c.projChannels;
    const proj = this.params.get('proj/w') as tf.Tensor2D;
    // s_t = proj(pool(E * m)): gate and pool each sample (constants: no gradient), project together.
    const gated = batch.embeddings.map((ref, i) =>
      tf.tidy(() => {
        const e4 = tf.reshape(ref.tensor, [1, he, we, d]) as tf.Tensor4D;
        const x =
          c.state === 'gated'
            ? (tf.mul(
                e4,
                tf.tensor4d(batch.maskProbs.subarray(i * he * we, (i + 1) * he * we), [1, he, we, 1]),
              ) as tf.Tensor4D)
            : e4;
        // Constants (no gradient flows into E), so the plain pooling kernel is fine here.
        return f === 1 ? x : (tf.avgPool(x, f, f, 'valid') as tf.Tensor4D);
      }),
    );
    const gatedAll = tf.reshape(b === 1 ? gated[0] : tf.concat(gated, 0), [b * h * w, d]) as tf.Tensor2D;
    const state = tf.reshape(matMulConstLeft(gatedAll, proj), [b, h, w, p]) as tf.Tensor4D;
    if (c.branch === 'implicit') return this.implicit(state);
    const plain = batch.embeddings.map((ref) => this.pooledPlain(ref, he, we, f, opts.useCache === true));
    const plainAll = tf.reshape(b === 1 ? plain[0] : tf.concat(plain, 0), [b * h * w, d]) as tf.Tensor2D;
    const x = tf.reshape(matMulConstLeft(plainAll, proj), [b, h, w, p]) as tf.Tensor4D;
    return this.explicit(x, state, tf.tensor2d(batch.textVectors!, [b, c.textDim]));
  }

  private implicit(state: tf.Tensor4D): tf.Tensor2D {
    const c = this.config;
    const b = state.shape[0];
    const g2 = c.gridSize * c.gridSize;
    let h = tf.relu(this.convLayer(state, 'block0')) as tf.Tensor4D;
    h = tf.relu(this.convLayer(h, 'block1')) as tf.Tensor4D;
    const cells = this.poolToGrid(h);
    let flat = tf.reshape(cells, [b * g2, c.channels]) as tf.Tensor2D;
    if (c.globalContext) {
      const mean = tf.mean(cells, [1, 2], true);
      const broadcast = tf.reshape(tf.mul(tf.onesLike(cells), mean), [b * g2, c.channels]);
      flat = tf.concat([flat, broadcast], 1) as tf.Tensor2D;
    }
    const hid = tf.relu(this.denseLayer(flat, 'head0')) as tf.Tensor2D;
    return tf.reshape(this.denseLayer(hid, 'head1'), [b, g2]);
  }

  private explicit(x: tf.Tensor4D, state: tf.Tensor4D, text: tf.Tensor2D): tf.Tensor2D {
    const c = this.config;
    const [b, he, we, p] = x.shape;
    const a = c.attentionDim;
    const ch = c.channels;
    const g2 = c.gridSize * c.gridSize;
    // Text-image similarity map M_c on the pooled grid (stands in for CLIP Surgery's).
    const q = this.denseLayer(text, 'sim/q');
    const k = tf.reshape(
      matMul2d(tf.reshape(x, [b * he * we, p]) as tf.Tensor2D, this.params.get('sim/k') as tf.Tensor2D),
      [b, he * we, a],
    );
    const sim = tf.add(tf.div(tf.sum(tf.mul(k, tf.reshape(q, [b, 1, a])), 2), Math.sqrt(a)), this.params.get('sim/b'));
    const mapC = tf.reshape(tf.sigmoid(sim), [b, he, we, 1]);
    const semantic = tf.mul(x, mapC) as tf.Tensor4D;

    let h = this.convLayer(tf.concat([state, semantic], 3) as tf.Tensor4D, 'fuse0');
    const film = this.denseLayer(text, 'film');
    const gamma = tf.reshape(tf.slice(film, [0, 0], [b, ch]), [b, 1, 1, ch]);
    const beta = tf.reshape(tf.slice(film, [0, ch], [b, ch]), [b, 1, 1, ch]);
    h = tf.relu(tf.add(tf.mul(h, tf.add(gamma, 1)), beta)) as tf.Tensor4D;
    h = tf.relu(this.convLayer(h, 'fuse1')) as tf.Tensor4D;
    h = tf.relu(this.convLayer(h, 'fuse2')) as tf.Tensor4D;
    const cells = this.poolToGrid(h);

    // One self-attention layer over the G*G cells of each sample. Several samples share one 2-D
    // score matrix with a block-diagonal mask (fewer, larger plain matMuls: fast on wasm).
    const tokens = tf.add(tf.reshape(cells, [b, g2, ch]), tf.reshape(this.params.get('attn/pos'), [1, g2, ch]));
    const flat = tf.reshape(tokens, [b * g2, ch]) as tf.Tensor2D;
    const Q = matMul2d(flat, this.params.get('attn/q') as tf.Tensor2D);
    const K = matMul2d(flat, this.params.get('attn/k') as tf.Tensor2D);
    const V = matMul2d(flat, this.params.get('attn/v') as tf.Tensor2D);
    const group = Math.max(1, Math.min(b, Math.floor(ATTENTION_ROWS / g2)));
    const outs: tf.Tensor2D[] = [];
    for (let s = 0; s < b; s += group) {
      const n = Math.min(group, b - s);
      const rows = n * g2;
      const part = (t: tf.Tensor2D) => (n === b ? t : (tf.slice(t, [s * g2, 0], [rows, a]) as tf.Tensor2D));
      let scores = tf.div(matMul2d(part(Q), tf.transpose(part(K))), Math.sqrt(a)) as tf.Tensor2D;
      if (n > 1) scores = tf.add(scores, this.blockMask(n, g2));
      outs.push(matMul2d(tf.softmax(scores) as tf.Tensor2D, part(V)));
    }
    const attended = this.denseLayer(b === 1 ? outs[0] : (tf.concat(outs, 0) as tf.Tensor2D), 'attn/o');
    h = tf.reshape(tf.add(flat, attended), [b, c.gridSize, c.gridSize, ch]) as tf.Tensor4D;
    h = tf.relu(this.convLayer(h, 'post0')) as tf.Tensor4D;
    h = tf.relu(this.convLayer(h, 'post1')) as tf.Tensor4D;
    return tf.reshape(this.denseLayer(tf.reshape(h, [b * g2, ch]) as tf.Tensor2D, 'head'), [b, g2]);
  }

  dispose(): void {
    this.clearCache();
    for (const m of this.poolMats.values()) m.dispose();
    this.poolMats.clear();
    this.params.dispose();
  }
}
