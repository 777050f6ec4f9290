/**
 * A named set of trainable variables: the whole "module system" the agents and the SRM need.
 * Logical names ("trunk/conv0/w") are what checkpoints and exports use; the tf.Variable names are
 * made unique per set because tfjs registers variable names globally (a policy and its target net
 * share logical names but not tf names).
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, TensorRecord } from '../io/tensor-record';

let nextSetId = 0;

export class ParamSet {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly prefix: string;

  constructor(label = 'params') {
    this.prefix = `${label}#${nextSetId++}/`;
  }

  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.vars.has(name)) throw new Error(`ParamSet: duplicate parameter '${name}'`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`ParamSet: '${name}' has ${values.length} values for shape [${shape}]`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, this.prefix + name));
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`ParamSet: no parameter '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Map a tf variable name (as in tf.variableGrads) back to the logical name. */
  logicalName(tfName: string): string {
    if (!tfName.startsWith(this.prefix)) throw new Error(`ParamSet: variable '${tfName}' does not belong to this set`);
    return tfName.slice(this.prefix.length);
  }

  get count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** A copy of every parameter as plain float32 arrays, in insertion order. */
  toRecord(): TensorRecord {
    const rec: TensorRecord = new Map();
    for (const [name, v] of this.vars) {
      rec.set(name, { dtype: 'float32', shape: [...v.shape], data: v.dataSync() as Float32Array });
    }
    return rec;
  }

  /** Assign every parameter from `rec`; names and shapes must match exactly (errors name the tensor). */
  loadRecord(rec: TensorRecord, source = 'weights'): void {
    for (const name of rec.keys()) {
      if (!this.vars.has(name))
        throw new Error(`${source}: unexpected tensor '${name}' (not a parameter of this network)`);
    }
    const staged: Array<[tf.Variable, NamedTensor]> = [];
    for (const [name, v] of this.vars) {
      const t = rec.get(name);
      if (!t) throw new Error(`${source}: missing tensor '${name}'`);
      if (t.dtype !== 'float32') throw new Error(`${source}: tensor '${name}' is ${t.dtype}, expected float32`);
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(`${source}: tensor '${name}' has shape [${t.shape}], expected [${v.shape}]`);
      }
      staged.push([v, t]);
    }
    // Everything checked before anything is assigned: a bad file never leaves a half-loaded net.
    for (const [v, t] of staged) tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, v.shape, 'float32')));
  }

  /** this <- other (same structure). */
  copyFrom(other: ParamSet): void {
    this.polyakFrom(other, 1);
  }

  /** this <- tau * other + (1 - tau) * this. */
  polyakFrom(other: ParamSet, tau: number): void {
    if (!(tau >= 0 && tau <= 1)) throw new Error(`ParamSet.polyakFrom: tau must be in [0, 1], got ${tau}`);
    for (const [name, v] of this.vars) {
      const src = other.get(name);
      if (src.shape.join() !== v.shape.join()) throw new Error(`ParamSet: '${name}' shapes differ`);
      tf.tidy(() => v.assign(tau === 1 ? src.clone() : tf.add(tf.mul(src, tau), tf.mul(v, 1 - tau))));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
