import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBrowserExport } from '../../demo/src/load-export';
import { initBackend } from '../../src/backend';
import { SyntheticDataset } from '../../src/data/synthetic';
import { loadExport, readExportManifest, type ExportManifest } from '../../src/runs/export';
import { exportEnvOptions } from '../../src/runs/export-env';
import { EmbeddingCache } from '../../src/sam/embedding-cache';

const SHIPPED = path.resolve(__dirname, '../../models/default-agent');

/** The shipped export's manifest, written with the current key `multimaskOutput`. */
function currentJson(): ExportManifest {
  const json = JSON.parse(fs.readFileSync(path.join(SHIPPED, 'alignsam-export.json'), 'utf8'));
  expect(json.env).toHaveProperty('multimaskOutput');
  return json;
}

/** The same manifest as an export written before the env took the option's name: `multimask`. */
function oldJson(): Record<string, unknown> & { env: Record<string, unknown> } {
  const json = currentJson() as unknown as Record<string, unknown> & { env: Record<string, unknown> };
  const { multimaskOutput, ...env } = json.env;
  return { ...json, env: { ...env, multimask: multimaskOutput } };
}

describe('readExportManifest', () => {
  it('reads the old key `multimask` as multimaskOutput', () => {
    const json = oldJson();
    expect(json.env.multimask).toBe('single-point');
    const m = readExportManifest(json, 'old.json');
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
    const old = oldJson();
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

  it('loads the shipped export (new key) and a copy written with the old key', async () => {
    expect(await multimaskOfExport(SHIPPED)).toBe('single-point');
    const copy = path.join(tmp, 'old');
    fs.cpSync(SHIPPED, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'alignsam-export.json'), JSON.stringify(oldJson()));
    expect(await multimaskOfExport(copy)).toBe('single-point');
  });

  it("the demo's loader reads the old key too", async () => {
    const old = path.join(tmp, 'old-demo');
    fs.cpSync(SHIPPED, old, { recursive: true });
    fs.writeFileSync(path.join(old, 'alignsam-export.json'), JSON.stringify(oldJson()));
    const fetchFn = (async (url: string) => {
      const file = path.join(old, url.replace(/^https:\/\/demo\.test\//, ''));
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
