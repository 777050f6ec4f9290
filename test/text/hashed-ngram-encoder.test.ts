import { HashedNgramEncoder } from '../../src/text/hashed-ngram-encoder';
import { assertSameTextEncoder, parseTextEncoderIdentity, textEncoderIdentity } from '../../src/text/text-encoder';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('HashedNgramEncoder', () => {
  it('is deterministic across instances, unit-length, and cached per normalised name', async () => {
    const a = new HashedNgramEncoder({ dim: 128 });
    const b = new HashedNgramEncoder({ dim: 128 });
    const [va, va2, vUpper] = await a.embed(['star', '  star ', 'Star']);
    const [vb] = await b.embed(['star']);
    expect(Array.from(va)).toEqual(Array.from(vb));
    expect(va2).toBe(va); // cached under the trimmed, NFKC name
    expect(Array.from(vUpper)).toEqual(Array.from(va)); // this encoder folds case
    expect(Math.hypot(...va)).toBeCloseTo(1, 5);
    const [zero] = await a.embed(['']);
    expect(Array.from(zero).every((x) => x === 0)).toBe(true);
  });

  it('tells category names apart and reflects spelling (not meaning)', async () => {
    const enc = new HashedNgramEncoder({ dim: 512 });
    const names = ['star', 'circle', 'square', 'triangle', 'ring', 'cross', 'ellipse', 'hexagon'];
    const v = await enc.embed(names);
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) expect(dot(v[i], v[j])).toBeLessThan(0.5);
    }
    const [cat, cats, dog] = await enc.embed(['cat', 'cats', 'dog']);
    expect(dot(cat, cats)).toBeGreaterThan(0.5);
    expect(dot(cat, cats)).toBeGreaterThan(dot(cat, dog) + 0.4);
  });

  it('validates its options', () => {
    expect(() => new HashedNgramEncoder({ dim: 1 })).toThrow(/dim must be an integer >= 2/);
    expect(() => new HashedNgramEncoder({ minN: 3, maxN: 2 })).toThrow(/minN <= maxN/);
  });
});

describe('text encoder identity', () => {
  it('refuses to run a model with another encoder, naming both', () => {
    const a = textEncoderIdentity(new HashedNgramEncoder({ dim: 512 }));
    const b = { id: 'use-lite:0123456789abcdef', dim: 512 };
    expect(() => assertSameTextEncoder(a, { ...a }, 'ckpt')).not.toThrow();
    expect(() => assertSameTextEncoder(null, undefined, 'ckpt')).not.toThrow();
    expect(() => assertSameTextEncoder(a, b, 'runs/x/policy')).toThrow(
      /runs\/x\/policy: was trained with text encoder 'hashed-ngram-v1:d512:n1-4' \(dim 512\) but is being run with 'use-lite:0123456789abcdef'/,
    );
    expect(() => assertSameTextEncoder(a, null, 'export')).toThrow(/being run with none/);
    expect(() => assertSameTextEncoder(a, { id: a.id, dim: 256 }, 'export')).toThrow(/dim 256/);
  });

  it('parses identities from JSON with clear errors', () => {
    expect(parseTextEncoderIdentity({ id: 'x', dim: 3 }, 'f.json')).toEqual({ id: 'x', dim: 3 });
    expect(() => parseTextEncoderIdentity({ id: '', dim: 3 }, 'f.json')).toThrow(/f\.json: text encoder 'id'/);
    expect(() => parseTextEncoderIdentity({ id: 'x', dim: 0 }, 'f.json')).toThrow(/f\.json: text encoder 'dim'/);
  });
});
