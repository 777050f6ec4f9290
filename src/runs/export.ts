/**
 * A trained agent as one folder to deploy:
 *   alignsam-export.json   manifest: action grid, horizon, label source, initial prompts,
 *                          preprocessing (the SAM and its config), text encoder identity, source run
 *   policy.json, policy.weights.bin   the policy (src/agent/export: runs with @tensorflow/tfjs alone)
 *   srm/                   the semantic recalibration module's config and weights, when the agent uses one
 *   categories.json        target names and their text vectors (so known names need no encoder)
 *   sam.safetensors + sam-config.json   the SAM weights when small enough to copy (the micro-SAM);
 *                          otherwise the manifest names the checkpoint file
 * Written into a temporary folder and renamed into place.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFolderAtomic } from '../io/atomic-folder';
import { readJsonFileSync, writeJsonFile } from '../io/json-file';
import { policyArtifacts } from '../agent/export/policy-export';
import { PolicyRuntime, POLICY_JSON, POLICY_WEIGHTS, type PolicyExportJson } from '../agent/export/policy-runtime';
import { evalInitialPrompts, type AlignSamConfig } from '../config/alignsam-config';
import type { SemanticRecalibrationModule } from '../recalibration/srm';
import { loadSrm, saveSrm } from '../recalibration/srm-io';
import { loadSam } from '../sam/pretrained';
import { samConfigToJson } from '../sam/config';
import type { SamModel } from '../sam/modeling/sam-model';
import { createTextEncoder } from '../text/create-text-encoder';
import { textEncoderIdentity, type TextEncoder } from '../text/text-encoder';
import { createRunParts, loadAgent, microSamWeights, srmDirOf } from './factory';
import { listCheckpoints, openRunDir, runPaths } from './run-dir';
import {
  EXPORT_FORMAT,
  EXPORT_MANIFEST,
  EXPORT_VERSION,
  readExportManifest,
  type ExportManifest,
} from './export-manifest';

export {
  EXPORT_FORMAT,
  EXPORT_MANIFEST,
  EXPORT_VERSION,
  readExportManifest,
  type ExportEnvSettings,
  type ExportManifest,
} from './export-manifest';
/** SAM checkpoints up to this size are copied into the export. */
export const COPY_SAM_MAX_BYTES = 64 * 1024 * 1024;

/** Which checkpoint of a run: 'best', 'latest', or a folder. */
export function resolveCheckpoint(runDir: string, which: string, srmEnabled: boolean): string {
  const paths = runPaths(runDir);
  const complete = (dir: string) => !srmEnabled || fs.existsSync(path.join(dir, 'srm', 'srm.json'));
  if (which === 'latest' || which === 'best') {
    if (which === 'best' && fs.existsSync(path.join(paths.best, 'agent.json')) && complete(paths.best))
      return paths.best;
    const all = listCheckpoints(paths.checkpoints, complete);
    if (all.length === 0) throw new Error(`${runDir}: no complete checkpoint in ${paths.checkpoints}`);
    return all[all.length - 1].dir;
  }
  if (!fs.existsSync(path.join(which, 'agent.json')))
    throw new Error(`${which}: not an agent checkpoint (agent.json missing)`);
  return which;
}

export async function exportRun(
  runDir: string,
  outDir: string,
  opts: { checkpoint?: string; log?: (m: string) => void } = {},
): Promise<ExportManifest> {
  const log = opts.log ?? (() => undefined);
  const { config } = openRunDir(runDir);
  if (config.env.label_source === 'oracle') {
    throw new Error(
      `${runDir}: the agent was trained with env.label_source 'oracle' (ground-truth labels), which a deployed agent does not have; export an agent trained with 'recalibration' or 'agent' labels`,
    );
  }
  const ckpt = resolveCheckpoint(runDir, opts.checkpoint ?? 'latest', config.srm.enabled);
  log(`exporting ${ckpt}`);
  const agent = await loadAgent(ckpt, null);
  const samFile = config.sam.checkpoint === 'micro' ? microSamWeights() : path.resolve(config.sam.checkpoint);
  const copySam = fs.statSync(samFile).size <= COPY_SAM_MAX_BYTES;
  let text: TextEncoder | null = null;
  let srm: SemanticRecalibrationModule | null = null;
  try {
    // The SAM config goes with the weights, so the export does not depend on files beside them.
    const sam = await loadSam(samFile, config.sam.config ? { config: config.sam.config } : {});
    const samConfigJson = samConfigToJson(sam.config);
    sam.dispose();
    if (config.text.encoder !== 'none')
      text = await createTextEncoder(
        config.text.encoder === 'hashed'
          ? { type: 'hashed', dim: config.text.dim }
          : { type: 'use', dir: config.text.use_dir!, fallback: false },
      );
    const categories = await categoryNames(config);
    if (config.srm.enabled)
      srm = await loadSrm(srmDirOf(ckpt), { textEncoder: text ? textEncoderIdentity(text) : null });
    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_VERSION,
      source: { run: path.resolve(runDir), checkpoint: path.resolve(ckpt), numTimesteps: agent.numTimesteps },
      algo: agent.algo,
      env: {
        gridSize: config.env.grid_size,
        horizon: config.env.horizon,
        labelSource: config.env.label_source,
        initialPrompts: evalInitialPrompts(config, 'deployed'),
        multimaskOutput: config.env.multimask_output,
        maskInput: config.env.mask_input,
        observeLabeler: config.env.observe_labeler && config.srm.enabled,
      },
      sam: copySam
        ? { weights: `sam${path.extname(samFile)}`, config: 'sam-config.json', copied: true }
        : { weights: samFile, config: 'sam-config.json', copied: false },
      text: {
        encoder: config.text.encoder,
        identity: text ? textEncoderIdentity(text) : null,
        useDir: config.text.use_dir ? path.resolve(config.text.use_dir) : null,
        dim: text?.dim ?? 0,
      },
      srm: srm ? 'srm' : null,
      categories: text ? 'categories.json' : null,
    };
    const { spec, weights } = await policyArtifacts(agent, {
      labelSource: manifest.env.labelSource,
      gridSize: manifest.env.gridSize,
      horizon: manifest.env.horizon,
    });
    await writeFolderAtomic(outDir, async (tmp) => {
      fs.writeFileSync(path.join(tmp, POLICY_WEIGHTS), new Uint8Array(weights));
      await writeJsonFile(path.join(tmp, POLICY_JSON), spec);
      await writeJsonFile(path.join(tmp, 'sam-config.json'), samConfigJson);
      if (copySam) fs.copyFileSync(samFile, path.join(tmp, manifest.sam.weights));
      if (srm) await saveSrm(srm, path.join(tmp, 'srm'), { contents: 'weights' });
      if (text) {
        const vectors = await text.embed(categories);
        fs.writeFileSync(
          path.join(tmp, 'categories.json'),
          `${JSON.stringify({ encoder: textEncoderIdentity(text), names: categories, vectors: vectors.map((v) => Array.from(v)) })}\n`,
        );
      }
      await writeJsonFile(path.join(tmp, EXPORT_MANIFEST), manifest);
    });
    return manifest;
  } finally {
    srm?.dispose();
    agent.dispose();
  }
}

/** Target names the agent was trained on (the data sets' categories). */
async function categoryNames(config: AlignSamConfig): Promise<string[]> {
  if (config.text.encoder === 'none') return [];
  if (config.data.type === 'synthetic') return [...(config.data.synthetic.targets ?? config.data.synthetic.categories)];
  const parts = await createRunParts({
    ...config,
    srm: { ...config.srm, enabled: false },
    text: { ...config.text, encoder: 'none' },
  });
  try {
    return [...new Set([...(parts.trainData.categories ?? []), ...(parts.evalData.categories ?? [])])];
  } finally {
    parts.dispose();
  }
}

export interface LoadedExport {
  dir: string;
  manifest: ExportManifest;
  policy: PolicyRuntime;
  srm: SemanticRecalibrationModule | null;
  sam: SamModel;
  /** Vector of a target name: from categories.json, else the text encoder; undefined without text. */
  textVector?: (name: string) => Float32Array;
  textDim: number;
  /** Embed a target name the export does not list (when it has a text encoder) before using it. */
  prepareTarget(name: string): Promise<void>;
  dispose(): void;
}

/** Load an export folder (Node: it reads files and loads SAM). */
export async function loadExport(dir: string): Promise<LoadedExport> {
  const file = path.join(dir, EXPORT_MANIFEST);
  const manifest = readExportManifest(readJsonFileSync<unknown>(file), file);
  const spec = readJsonFileSync<PolicyExportJson>(path.join(dir, POLICY_JSON));
  const bytes = fs.readFileSync(path.join(dir, POLICY_WEIGHTS));
  const policy = PolicyRuntime.fromArtifacts(
    spec,
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  );
  let srm: SemanticRecalibrationModule | null = null;
  let sam: SamModel | null = null;
  try {
    const samFile = manifest.sam.copied ? path.join(dir, manifest.sam.weights) : manifest.sam.weights;
    sam = await loadSam(samFile, manifest.sam.config ? { config: path.join(dir, manifest.sam.config) } : {});
    let textVector: ((name: string) => Float32Array) | undefined;
    let prepareTarget = async (_name: string): Promise<void> => undefined;
    if (manifest.text.encoder !== 'none') {
      const table = manifest.categories
        ? readJsonFileSync<{ names: string[]; vectors: number[][] }>(path.join(dir, manifest.categories))
        : { names: [], vectors: [] };
      const known = new Map(table.names.map((n, i) => [n, Float32Array.from(table.vectors[i])]));
      const encoder =
        manifest.text.encoder === 'hashed'
          ? await createTextEncoder({ type: 'hashed', dim: manifest.text.dim })
          : manifest.text.useDir && fs.existsSync(manifest.text.useDir)
            ? await createTextEncoder({ type: 'use', dir: manifest.text.useDir, fallback: false })
            : null;
      if (encoder && manifest.text.identity && encoder.id !== manifest.text.identity.id)
        throw new Error(
          `${dir}: text encoder '${encoder.id}' differs from the one the agent was trained with ('${manifest.text.identity.id}')`,
        );
      const pending = new Map<string, Float32Array>();
      textVector = (name: string) => {
        const v = known.get(name) ?? pending.get(name);
        if (v) return v;
        throw new Error(
          `target '${name}' is not among the export's categories (${table.names.join(', ')})${encoder ? '' : ' and no text encoder is available to embed it'}`,
        );
      };
      // The env's lookup is synchronous: new names are embedded ahead.
      prepareTarget = async (name: string) => {
        if (known.has(name) || !encoder) return;
        pending.set(name, (await encoder.embed([name]))[0]);
      };
    }
    if (manifest.srm) srm = await loadSrm(path.join(dir, manifest.srm), { textEncoder: manifest.text.identity });
    const loaded: LoadedExport = {
      dir,
      manifest,
      policy,
      srm,
      sam,
      textVector,
      textDim: manifest.text.dim,
      prepareTarget,
      dispose() {
        policy.dispose();
        srm?.dispose();
        sam?.dispose();
      },
    };
    return loaded;
  } catch (err) {
    policy.dispose();
    srm?.dispose();
    sam?.dispose();
    throw err;
  }
}
