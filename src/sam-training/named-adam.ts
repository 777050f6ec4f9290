/**
 * Adam with its moments keyed by variable name, over a Map of SAM variables. tf.train.adam keeps
 * moments by position in the variable list, which breaks when a step leaves some variable without
 * a gradient (no mask input, single- vs multi-mask heads); here a missing gradient just skips that
 * variable. Decoupled weight decay (AdamW) is optional. State is saveable for resume.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorRecord } from '../io/tensor-record';

export interface NamedAdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class NamedAdam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly vars: Map<string, tf.Variable>,
    opts: NamedAdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const [name, p] of vars) {
      if (!p.trainable) continue;
      this.m.set(name, tf.variable(tf.zeros(p.shape), false));
      this.v.set(name, tf.variable(tf.zeros(p.shape), false));
    }
  }

  /** One update from gradients keyed by the same names as the variables. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`NamedAdam: learning rate must be finite and >= 0, got ${lr}`);
    this.step++;
    const bc1 = 1 - Math.pow(this.beta1, this.step);
    const bc2 = 1 - Math.pow(this.beta2, this.step);
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.vars.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!p || !m || !v) throw new Error(`NamedAdam: gradient for unknown or frozen variable '${name}'`);
        const m2 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v2 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m2);
        v.assign(v2);
        const update = tf.mul(tf.div(m2, tf.add(tf.sqrt(tf.div(v2, bc2)), this.eps)), lr / bc1);
        // Decay only matrices and kernels (rank >= 2), not biases, norms or embeddings' scales.
        const decayed = this.weightDecay > 0 && p.rank >= 2 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, update));
      }
    });
  }

  toRecord(): TensorRecord {
    const rec: TensorRecord = new Map();
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, t] of map) rec.set(`${kind}/${name}`, { dtype: 'float32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
    }
    return rec;
  }

  loadRecord(rec: TensorRecord, step: number, source = 'optimizer state'): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`${source}: step must be an integer >= 0, got ${step}`);
    const staged: Array<[tf.Variable, Float32Array]> = [];
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, t] of map) {
        const e = rec.get(`${kind}/${name}`);
        if (!e) throw new Error(`${source}: missing tensor '${kind}/${name}'`);
        if (e.dtype !== 'float32' || e.shape.join() !== t.shape.join()) throw new Error(`${source}: '${kind}/${name}' is ${e.dtype} [${e.shape}], expected float32 [${t.shape}]`);
        staged.push([t, e.data as Float32Array]);
      }
    }
    for (const [t, data] of staged) tf.tidy(() => t.assign(tf.tensor(data, t.shape)));
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
