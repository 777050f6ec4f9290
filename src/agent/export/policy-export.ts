/**
 * Writes a trained agent's policy as a deployable folder (see policy-runtime.ts for the format),
 * atomically. Other parts of a full export (recalibration head, preprocessing, category vectors)
 * sit next to these two files; pass what the runtime should know about them as `metadata`.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BaseAgent, AgentCommonOptions } from '../base-agent';
import { writeFolderAtomic } from '../../io/atomic-folder';
import { readJsonFile, writeJsonFile } from '../../io/json-file';
import {
  POLICY_EXPORT_FORMAT,
  POLICY_EXPORT_VERSION,
  POLICY_JSON,
  POLICY_WEIGHTS,
  PolicyExportJson,
  PolicyRuntime,
} from './policy-runtime';

/** The two artifacts in memory. */
export async function policyArtifacts(
  agent: BaseAgent<AgentCommonOptions>,
  metadata: Record<string, unknown> = {},
): Promise<{ spec: PolicyExportJson; weights: ArrayBuffer }> {
  const net = agent.policy;
  const embedDims = agent.embeddingDims;
  const named: tf.NamedTensorMap = {};
  for (const name of net.params.names()) named[name] = net.params.get(name);
  const { data, specs } = await tf.io.encodeWeights(named);
  const spec: PolicyExportJson = {
    format: POLICY_EXPORT_FORMAT,
    formatVersion: POLICY_EXPORT_VERSION,
    algo: agent.algo,
    net: net.config,
    embedDims: { ...embedDims },
    weightsManifest: specs,
    metadata,
  };
  return { spec, weights: data };
}

/** Write `policy.json` and `policy.weights.bin` into `dir` (replacing a previous export). */
export async function exportPolicy(
  agent: BaseAgent<AgentCommonOptions>,
  dir: string,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const { spec, weights } = await policyArtifacts(agent, metadata);
  await writeFolderAtomic(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, POLICY_WEIGHTS), new Uint8Array(weights));
    await writeJsonFile(path.join(tmp, POLICY_JSON), spec);
  });
}

/** Node convenience: read an exported folder into a PolicyRuntime. */
export async function loadExportedPolicy(dir: string, opts: { seed?: number } = {}): Promise<PolicyRuntime> {
  const spec = await readJsonFile<PolicyExportJson>(path.join(dir, POLICY_JSON));
  const bytes = await fsp.readFile(path.join(dir, POLICY_WEIGHTS));
  return PolicyRuntime.fromArtifacts(
    spec,
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    opts,
  );
}
