import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBrowserExport } from '../../demo/src/load-export';
import { initBackend } from '../../src/backend';
import { SyntheticDataset } from '../../src/data/synthetic';
import { loadExport, readExportManifest, type ExportManifest } from '../../src/runs/export';
import { exportEnvOptions } from '../../src/runs/export-env';
import { EmbeddingCache } from '../../src/sam/embedding-cache';

/** An export written before the manifest's env took the option's name: it says `multimask`. */
const SHIPPED = path.resolve(__dirname, '../../models/default-agent');
const shippedJson = (): Record<string, unknown> & { env: Record<string, unknown> } =>
  JSON.parse(fs.readFileSync(path.join(SHIPPED, 'alignsam-export.json'), 'utf8'));

/** The shipped export's manifest with its env key spelled the current way. */
function currentJson(): ExportManifest {
  const json = shippedJson();
  const { multimask, ...env } = json.env;
  return { ...json, env: { ...env, multimaskOutput: multimask } } as unknown as ExportManifest;
}

describe('readExportManifest', () => {
  it('reads the old key `multimask` as multimaskOutput', () => {
    const json = shippedJson();
    expect(json.env.multimask).toBe('single-point');
    const m = readExportManifest(json, 'shipped.json');
    expect(m.env.multimaskOutput).toBe('single-point');
    expect(m.env).not.toHaveProperty('multimask');
    expect(json.env).toHaveProperty('multimask'); // the parsed JSON is left as it was
  });

  it('reads the current key as written', () => {
    for (const value of [true, false, 'single-point'] as const) {
      const json = currentJson();
      json.env.multimaskOutput = value;
      expect(readExportManifest(structuredClone(json), 'current.json')).toEqual(json);
    }
  });

  it('refuses both spellings at once, naming the manifest and both keys', () => {
    const json = currentJson() as unknown as { env: Record<string, unknown> };
    json.env.multimask = false;
    expect(() => readExportManifest(json, 'both.json')).toThrow(
      "both.json: env has both 'multimask' and 'multimaskOutput'",
    );
  });

  it('refuses a missing or invalid setting and a file that is not an export', () => {
    const missing = currentJson() as unknown as { env: Record<string, unknown> };
    delete missing.env.multimaskOutput;
    expect(() => readExportManifest(missing, 'm.json')).toThrow(
      "m.json: env.multimaskOutput must be true, false or 'single-point', got undefined",
    );
    const old = shippedJson();
    old.env.multimask = 'always';
    expect(() => readExportManifest(old, 'o.json')).toThrow(/o.json: env.multimaskOutput must be .* got "always"/);
    expect(() => readExportManifest({ format: 'other' }, 'x.json')).toThrow('x.json: not an AlignSAM export');
    expect(() => readExportManifest({ ...currentJson(), formatVersion: 2 }, 'v.json')).toThrow(
      'v.json: unsupported formatVersion 2',
    );
  });
});

describe('loading exports with either key', () => {
  let tmp: string;

  beforeAll(async () => {
    await initBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-export-manifest-'));
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The shipped export's env options, loaded from `dir`. */
  async function multimaskOfExport(dir: string): Promise<unknown> {
    const exp = await loadExport(dir);
    const cache = new EmbeddingCache(exp.sam, { maxInMemory: 1 });
    try {
      expect(exp.manifest.env.multimaskOutput).toBe('single-point');
      return exportEnvOptions(exp, new SyntheticDataset({ seed: 0, length: 1, imageSize: 32 }), cache).multimaskOutput;
    } finally {
      exp.dispose();
    }
  }

  it('loads the shipped export (old key) and a copy written with the new key', async () => {
    expect(await multimaskOfExport(SHIPPED)).toBe('single-point');
    const copy = path.join(tmp, 'current');
    fs.cpSync(SHIPPED, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'alignsam-export.json'), JSON.stringify(currentJson()));
    expect(await multimaskOfExport(copy)).toBe('single-point');
  });

  it("the demo's loader reads the old key too", async () => {
    const fetchFn = (async (url: string) => {
      const file = path.join(SHIPPED, url.replace(/^https:\/\/demo\.test\//, ''));
      return fs.existsSync(file) ? new Response(fs.readFileSync(file)) : new Response('', { status: 404 });
    }) as typeof fetch;
    const exp = await loadBrowserExport('https://demo.test/', { fetchFn });
    try {
      expect(exp.manifest.env.multimaskOutput).toBe('single-point');
      expect(exp.manifest.env).not.toHaveProperty('multimask');
    } finally {
      exp.dispose();
    }
  });
});
