/**
 * Turns validated PyTorch-layout weights into tensors in the layouts the tfjs modules compute with
 * (Linear [out, in] -> [in, out], Conv2d [out, in, kh, kw] -> [kh, kw, in, out], ...). Every tensor
 * created here is owned by the `ParamStore` and released by `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';

export interface RawWeight {
  shape: number[];
  data: Float32Array;
}

export type RawWeights = Map<string, RawWeight>;

/**
 * What a model is built from: a RawWeights map, or anything that answers the same three questions
 * (e.g. a checkpoint read one tensor at a time when asked).
 */
export type WeightSource = Pick<ReadonlyMap<string, RawWeight>, 'get' | 'has' | 'keys'>;

export interface LinearParams {
  /** [in, out] */
  w: tf.Tensor2D;
  b: tf.Tensor1D | null;
}

export interface NormParams {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

export class ParamStore {
  private readonly owned: tf.Tensor[] = [];
  private raw: WeightSource | null;

  /**
   * From raw arrays (inference: tensors are created once and owned here), or from variables in
   * PyTorch layout (training: derived layouts are computed from the variables with differentiable
   * ops, so gradients reach them; build the modules inside the gradient function).
   */
  constructor(
    raw: WeightSource,
    private readonly variables: Map<string, tf.Variable> | null = null,
  ) {
    this.raw = raw;
  }

  get differentiable(): boolean {
    return this.variables !== null;
  }

  private get(name: string): RawWeight {
    if (!this.raw) throw new Error(`SAM weights: '${name}' asked for after the model was built`);
    const w = this.raw.get(name);
    if (!w) throw new Error(`SAM weights: missing tensor '${name}'`);
    return w;
  }

  has(name: string): boolean {
    return this.variables ? this.variables.has(name) : (this.raw?.has(name) ?? false);
  }

  /** Drop the raw arrays once every tensor is made, so that they can be collected. */
  releaseRaw(): void {
    this.raw = null;
  }

  /** Register a tensor built from parameters, keeping it alive until dispose(). */
  own<T extends tf.Tensor>(build: () => T): T {
    const t = tf.tidy(build);
    if (t instanceof tf.Variable) return t;
    this.owned.push(t);
    return t;
  }

  /** Keep a tensor made elsewhere (e.g. a packed weight) alive until dispose(). */
  adopt(t: tf.Tensor): void {
    this.owned.push(t);
  }

  /** The tensor as stored (PyTorch layout). */
  tensor(name: string): tf.Tensor {
    if (this.variables) return this.variable(name);
    const w = this.get(name);
    return this.own(() => tf.tensor(w.data, w.shape, 'float32'));
  }

  /** A temporary tensor in PyTorch layout, for use inside `own(...)`. */
  temp(name: string): tf.Tensor {
    if (this.variables) return this.variable(name);
    const w = this.get(name);
    return tf.tensor(w.data, w.shape, 'float32');
  }

  private variable(name: string): tf.Variable {
    const v = this.variables!.get(name);
    if (!v) throw new Error(`SAM weights: missing variable '${name}'`);
    return v;
  }

  linear(prefix: string): LinearParams {
    const w = this.own(() => this.temp(`${prefix}.weight`).transpose() as tf.Tensor2D);
    const b = this.has(`${prefix}.bias`) ? (this.tensor(`${prefix}.bias`) as tf.Tensor1D) : null;
    return { w, b };
  }

  /** The linears of an MLP (the reference's `MLP`, named `<prefix>.layers.<j>`). */
  mlp(prefix: string, depth: number): LinearParams[] {
    return Array.from({ length: depth }, (_, j) => this.linear(`${prefix}.layers.${j}`));
  }

  norm(prefix: string): NormParams {
    return {
      gamma: this.tensor(`${prefix}.weight`) as tf.Tensor1D,
      beta: this.tensor(`${prefix}.bias`) as tf.Tensor1D,
    };
  }

  /** Conv2d weight [out, in, kh, kw] -> tfjs filter [kh, kw, in, out]. */
  convFilter(name: string): tf.Tensor4D {
    return this.own(() => this.temp(name).transpose([2, 3, 1, 0]) as tf.Tensor4D);
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}
