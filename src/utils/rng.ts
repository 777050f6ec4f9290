/**
 * A small, fast, seedable PRNG (sfc32, seeded by splitmix32) whose whole state is four uint32s, so
 * it can be saved in a checkpoint and restored exactly. Everything random in the project that must
 * be reproducible draws from one of these, never from Math.random.
 */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed = 0) {
    this.seed(seed);
  }

  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
    const sm = splitmix32((Math.floor(seed) >>> 0) ^ Math.floor(seed / 4294967296));
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed uint32. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  random(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int needs a positive integer bound, got ${n}`);
    return Math.floor(this.random() * n);
  }

  /** Standard normal (Box-Muller; one value per call keeps the state simple). */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A seed for a child generator, so that independent streams can be derived reproducibly. */
  fork(): Rng {
    const child = new Rng(0);
    child.setState([this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()]);
    return child;
  }

  getState(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v))) {
      throw new Error(`Rng state must be four uint32 values, got ${JSON.stringify(state)}`);
    }
    [this.a, this.b, this.c, this.d] = state.map((v) => v >>> 0) as RngState;
  }
}
