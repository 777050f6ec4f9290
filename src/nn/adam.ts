/**
 * Adam (Kingma & Ba) over named variables, with the update PyTorch's torch.optim.Adam makes:
 *   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
 *   p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),
 * and optional decoupled weight decay (AdamW) on matrices and kernels. Written here rather than
 * using tf.train.adam, whose moments are kept by position in the variable list (a step that leaves
 * a variable without a gradient then mismatches them): here state is keyed by the parameters'
 * logical names (for checkpoints), a missing gradient just skips its variable, and the learning
 * rate can change every update (annealing). Used by the agents, the SRM and the SAM trainer.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorRecord } from '../io/tensor-record';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW), applied to rank >= 2 variables only. Default 0. */
  weightDecay?: number;
}

/** Named trainable variables: a ParamSet, or a Map such as SAM's `samVariables`. */
export interface NamedVariables {
  names(): Iterable<string>;
  get(name: string): tf.Variable | undefined;
}

function asNamed(params: NamedVariables | Map<string, tf.Variable>): NamedVariables {
  if (params instanceof Map) return { names: () => params.keys(), get: (n) => params.get(n) };
  return params;
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of updates applied so far (t in the bias corrections). */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  private readonly params: NamedVariables;

  constructor(params: NamedVariables | Map<string, tf.Variable>, opts: AdamOptions = {}) {
    this.params = asNamed(params);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const name of this.params.names()) {
      const p = this.params.get(name)!;
      if (!p.trainable) continue;
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zeros(p.shape), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zeros(p.shape), false)),
      );
    }
  }

  /** Apply one update from gradients keyed by logical parameter name. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr))
      throw new Error(`Adam: learning rate must be a finite number >= 0, got ${lr}`);
    this.step++;
    const bc1 = 1 - Math.pow(this.beta1, this.step);
    const bc2 = 1 - Math.pow(this.beta2, this.step);
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.params.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!p || !m || !v) throw new Error(`Adam: gradient for unknown or frozen variable '${name}'`);
        const m2 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v2 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m2);
        v.assign(v2);
        const denom = tf.add(tf.sqrt(tf.div(v2, bc2)), this.eps);
        const decayed = this.weightDecay > 0 && p.rank >= 2 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m2, denom), lr / bc1)));
      }
    });
  }

  /** Moments as a record ("m/<param>", "v/<param>"); the step count is kept separately. */
  toRecord(): TensorRecord {
    const rec: TensorRecord = new Map();
    for (const [name, t] of this.m)
      rec.set(`m/${name}`, { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array });
    for (const [name, t] of this.v)
      rec.set(`v/${name}`, { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array });
    return rec;
  }

  loadRecord(rec: TensorRecord, step: number, source = 'optimizer state'): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`${source}: step must be an integer >= 0, got ${step}`);
    const staged: Array<[tf.Variable, Float32Array]> = [];
    for (const [kind, map] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, t] of map) {
        const e = rec.get(`${kind}/${name}`);
        if (!e) throw new Error(`${source}: missing tensor '${kind}/${name}'`);
        if (e.dtype !== 'float32' || e.shape.join() !== t.shape.join()) {
          throw new Error(
            `${source}: tensor '${kind}/${name}' is ${e.dtype} [${e.shape}], expected float32 [${t.shape}]`,
          );
        }
        staged.push([t, e.data as Float32Array]);
      }
    }
    if (rec.size !== staged.length) throw new Error(`${source}: has ${rec.size} tensors, expected ${staged.length}`);
    for (const [t, data] of staged) tf.tidy(() => t.assign(tf.tensor(data, t.shape)));
    this.step = step;
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * Scale gradients so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_,
 * with its 1e-6 guard). Returns the new gradients and the norm before clipping (as a tensor, so no
 * device sync is forced).
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  const norm = tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) out.set(k, tf.mul(g, coef));
  return { grads: out, norm };
}
