/**
 * Loads an `alignsam export` folder over HTTP, in the browser: the policy, the SAM copied into the
 * export, the SRM and the category vectors. The Node loader (src/runs/export.ts) reads the same
 * files with fs; this one fetches them and builds the same objects from bytes, so nothing here
 * touches node-only modules.
 */
import { PolicyRuntime } from '../../src/agent/export';
import { parseSafetensors } from '../../src/io/safetensors';
import { toFloat32 } from '../../src/io/tensor-record';
import { SemanticRecalibrationModule } from '../../src/recalibration/srm';
import type { SrmConfig } from '../../src/recalibration/srm-config';
import { EXPORT_MANIFEST, readExportManifest, type ExportManifest } from '../../src/runs/export-manifest';
import { samConfigFromJson } from '../../src/sam/config';
import type { RawWeights } from '../../src/sam/weights/params';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { toOfficialNames } from '../../src/sam/weights/weight-names';
import { HashedNgramEncoder } from '../../src/text/hashed-ngram-encoder';
import type { TextEncoder } from '../../src/text/text-encoder';
import { contentHash } from './content-hash';

// Kept in step with src/recalibration/srm-io.ts (not imported: it reads files with fs).
const SRM_CHECKPOINT_FORMAT = 'alignsam-srm-checkpoint';
const SRM_CHECKPOINT_VERSION = 1;

export interface BrowserExport {
  url: string;
  manifest: ExportManifest;
  policy: PolicyRuntime;
  sam: SamModel;
  srm: SemanticRecalibrationModule | null;
  /** Names with a stored vector (categories.json). */
  knownTargets: string[];
  /** Length of the text vectors; 0 when the agent takes no target name. */
  textDim: number;
  /** The vector of a target name (after `prepareTarget`). */
  textVector?: (name: string) => Float32Array;
  /** Embeds a name that categories.json lacks, when the export's encoder runs here (hashed). */
  prepareTarget(name: string): Promise<void>;
  /** Bytes fetched, for the page's status line. */
  bytes: number;
  dispose(): void;
}

type Fetch = typeof fetch;

async function fetchOk(f: Fetch, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await f(url);
  } catch (err) {
    throw new Error(`${url}: cannot fetch (${(err as Error).message})`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function fetchJson<T>(f: Fetch, url: string): Promise<T> {
  const text = await (await fetchOk(f, url)).text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${url}: invalid JSON (${(err as Error).message})`);
  }
}

async function fetchBytes(f: Fetch, url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetchOk(f, url)).arrayBuffer());
}

/** The SAM stored in the export: official-name weights, its config, a content id for caching. */
export function samFromBytes(configJson: unknown, bytes: Uint8Array, source: string): SamModel {
  const config = samConfigFromJson(configJson);
  const { tensors } = parseSafetensors(bytes, source);
  let record;
  try {
    record = toOfficialNames(tensors);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  const raw: RawWeights = new Map();
  for (const [name, t] of record) raw.set(name, { shape: t.shape, data: toFloat32(t, `${source}: ${name}`) });
  return SamModel.fromWeights(config, raw, { weightsId: contentHash(bytes), source });
}

export async function loadBrowserExport(
  baseUrl: string,
  opts: { fetchFn?: Fetch; onProgress?: (message: string) => void } = {},
): Promise<BrowserExport> {
  const f = opts.fetchFn ?? fetch.bind(globalThis);
  const progress = opts.onProgress ?? (() => undefined);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const manifestUrl = `${base}${EXPORT_MANIFEST}`;
  const manifest = readExportManifest(await fetchJson<unknown>(f, manifestUrl), manifestUrl);
  if (!manifest.sam.copied) {
    throw new Error(
      `${manifestUrl}: the export names its SAM checkpoint (${manifest.sam.weights}) instead of holding a copy; the page needs an export with the SAM inside (exports copy SAM checkpoints up to 64 MiB)`,
    );
  }
  if (!manifest.sam.config) throw new Error(`${manifestUrl}: sam.config is missing`);
  let bytes = 0;
  const disposers: Array<() => void> = [];
  try {
    progress('policy');
    const policy = await PolicyRuntime.fromUrl(base, { fetchFn: f });
    disposers.push(() => policy.dispose());
    bytes += policy.net.params.names().reduce((s, n) => s + policy.net.params.get(n).size * 4, 0);

    progress('SAM');
    const samUrl = `${base}${manifest.sam.weights}`;
    const [samConfigJson, samBytes] = await Promise.all([
      fetchJson<unknown>(f, `${base}${manifest.sam.config}`),
      fetchBytes(f, samUrl),
    ]);
    bytes += samBytes.length;
    const sam = samFromBytes(samConfigJson, samBytes, samUrl);
    disposers.push(() => sam.dispose());

    let srm: SemanticRecalibrationModule | null = null;
    if (manifest.srm) {
      progress('recalibration module');
      const dir = `${base}${manifest.srm}/`;
      const json = await fetchJson<{ format: string; formatVersion: number; config: SrmConfig }>(f, `${dir}srm.json`);
      if (json?.format !== SRM_CHECKPOINT_FORMAT)
        throw new Error(`${dir}srm.json: not an SRM checkpoint (format ${JSON.stringify(json?.format)})`);
      if (json.formatVersion !== SRM_CHECKPOINT_VERSION)
        throw new Error(`${dir}srm.json: unsupported formatVersion ${json.formatVersion}`);
      const weightsUrl = `${dir}weights.safetensors`;
      const srmBytes = await fetchBytes(f, weightsUrl);
      bytes += srmBytes.length;
      srm = SemanticRecalibrationModule.deserialize(
        {
          format: 'alignsam-srm',
          formatVersion: 1,
          config: json.config,
          weights: parseSafetensors(srmBytes, weightsUrl).tensors,
        },
        weightsUrl,
      );
      const loaded = srm;
      disposers.push(() => loaded.dispose());
      srm.checkTextEncoder(manifest.text.identity, `${dir}`);
    }

    const known = new Map<string, Float32Array>();
    if (manifest.categories) {
      const table = await fetchJson<{ names: string[]; vectors: number[][] }>(f, `${base}${manifest.categories}`);
      table.names.forEach((n, i) => known.set(n, Float32Array.from(table.vectors[i])));
    }
    // Only the hashed encoder runs here; a USE export brings its known names only.
    let encoder: TextEncoder | null = null;
    if (manifest.text.encoder === 'hashed') {
      encoder = new HashedNgramEncoder({ dim: manifest.text.dim });
      if (manifest.text.identity && encoder.id !== manifest.text.identity.id) {
        throw new Error(
          `${manifestUrl}: text encoder '${encoder.id}' differs from the one the agent was trained with ('${manifest.text.identity.id}')`,
        );
      }
    }
    const pending = new Map<string, Float32Array>();
    const textDim = manifest.text.encoder === 'none' ? 0 : manifest.text.dim;
    const textVector =
      textDim > 0
        ? (name: string): Float32Array => {
            const v = known.get(name) ?? pending.get(name);
            if (v) return v;
            throw new Error(
              `target '${name}' is not among the export's categories (${[...known.keys()].join(', ') || 'none'})${encoder ? '' : '; this export encodes names with the Universal Sentence Encoder, which the page does not run'}`,
            );
          }
        : undefined;
    return {
      url: base,
      manifest,
      policy,
      sam,
      srm,
      knownTargets: [...known.keys()],
      textDim,
      textVector,
      async prepareTarget(name: string) {
        if (textDim === 0 || known.has(name) || pending.has(name) || !encoder) return;
        pending.set(name, (await encoder.embed([name]))[0]);
      },
      bytes,
      dispose() {
        for (const d of disposers.reverse()) d();
      },
    };
  } catch (err) {
    for (const d of disposers.reverse()) d();
    throw err;
  }
}
