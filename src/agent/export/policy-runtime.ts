/**
 * Runs an exported policy with @tensorflow/tfjs alone (Node or browser): no fs, no training code.
 * An export is two artifacts: `policy.json` (format tag, network config, embedding grid, the tfjs
 * weights manifest, free-form metadata) and `policy.weights.bin` (the weights, tfjs's binary
 * layout as written by tf.io.encodeWeights).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorRecord } from '../../io/tensor-record';
import { Rng } from '../../utils/rng';
import { argmaxMasked, sampleMasked } from '../distributions';
import { PromptNet, PromptNetConfig } from '../networks/prompt-net';
import type { PromptObservation } from '../../env/prompt/observation';
import { batchObservations } from '../observation';
import { tidyValue } from '../../tfjs-ops/tidy-value';

export const POLICY_EXPORT_FORMAT = 'alignsam-tfjs/policy';
export const POLICY_EXPORT_VERSION = 1;
export const POLICY_JSON = 'policy.json';
export const POLICY_WEIGHTS = 'policy.weights.bin';

export interface PolicyExportJson {
  format: string;
  formatVersion: number;
  /** 'PPO' (scores are logits) or 'DQN' (scores are Q-values). */
  algo: string;
  net: PromptNetConfig;
  embedDims: { embedH: number; embedW: number };
  weightsManifest: tf.io.WeightsManifestEntry[];
  /** Anything the exporter adds (action grid, label source, category names ...). */
  metadata: Record<string, unknown>;
}

export class PolicyRuntime {
  private readonly rng: Rng;

  private constructor(
    readonly spec: PolicyExportJson,
    readonly net: PromptNet,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** Build from the parsed policy.json and the bytes of policy.weights.bin. */
  static fromArtifacts(spec: PolicyExportJson, weights: ArrayBuffer, opts: { seed?: number } = {}): PolicyRuntime {
    if (!spec || spec.format !== POLICY_EXPORT_FORMAT)
      throw new Error(`${POLICY_JSON}: not an exported policy (format ${JSON.stringify(spec?.format)})`);
    if (spec.formatVersion !== POLICY_EXPORT_VERSION)
      throw new Error(`${POLICY_JSON}: unsupported formatVersion ${spec.formatVersion}`);
    const expected = spec.weightsManifest.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (weights.byteLength !== expected) {
      throw new Error(`${POLICY_WEIGHTS}: ${weights.byteLength} bytes, but ${POLICY_JSON} describes ${expected}`);
    }
    const named = tf.io.decodeWeights(weights, spec.weightsManifest);
    const record: TensorRecord = new Map();
    try {
      for (const [name, t] of Object.entries(named)) {
        record.set(name, { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array });
      }
    } finally {
      tf.dispose(Object.values(named));
    }
    const net = new PromptNet(spec.net, new Rng(0), 'policy-runtime');
    try {
      net.params.loadRecord(record, POLICY_WEIGHTS);
    } catch (err) {
      net.dispose();
      throw err;
    }
    return new PolicyRuntime(spec, net, opts.seed ?? 0);
  }

  /** Fetch both artifacts from a base URL (browser, or Node >= 18 with a file server). */
  static async fromUrl(baseUrl: string, opts: { seed?: number; fetchFn?: typeof fetch } = {}): Promise<PolicyRuntime> {
    const f = opts.fetchFn ?? fetch;
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    const specRes = await f(`${base}${POLICY_JSON}`);
    if (!specRes.ok) throw new Error(`${base}${POLICY_JSON}: HTTP ${specRes.status}`);
    const weightsRes = await f(`${base}${POLICY_WEIGHTS}`);
    if (!weightsRes.ok) throw new Error(`${base}${POLICY_WEIGHTS}: HTTP ${weightsRes.status}`);
    return PolicyRuntime.fromArtifacts(
      (await specRes.json()) as PolicyExportJson,
      await weightsRes.arrayBuffer(),
      opts,
    );
  }

  get nActions(): number {
    return this.net.nActions;
  }

  /** Per-action scores [B * nActions] (logits for PPO, Q-values for DQN), masking not applied. */
  scores(observations: PromptObservation[]): Float32Array {
    const batch = batchObservations(
      observations,
      this.net.dims(this.spec.embedDims.embedH, this.spec.embedDims.embedW),
    );
    return tidyValue(() => this.net.forward(batch, { useCache: true }).logits.dataSync() as Float32Array);
  }

  /** Actions for observations: the best allowed one, or (PPO, not deterministic) a sample. */
  act(observations: PromptObservation[], opts: { deterministic?: boolean } = {}): Int32Array {
    const batch = batchObservations(
      observations,
      this.net.dims(this.spec.embedDims.embedH, this.spec.embedDims.embedW),
    );
    const scores = tidyValue(() => this.net.forward(batch, { useCache: true }).logits.dataSync() as Float32Array);
    const deterministic = opts.deterministic ?? true;
    if (deterministic || this.spec.algo !== 'PPO') return argmaxMasked(scores, batch.actionMask, this.nActions);
    return sampleMasked(scores, batch.actionMask, this.nActions, this.rng);
  }

  dispose(): void {
    this.net.dispose();
  }
}
