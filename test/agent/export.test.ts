import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { DQN } from '../../src/agent/dqn/dqn';
import { exportPolicy, loadExportedPolicy, policyArtifacts } from '../../src/agent/export/policy-export';
import { PolicyRuntime } from '../../src/agent/export/policy-runtime';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { PPO } from '../../src/agent/ppo/ppo';
import { BrightCellsEnv } from './bright-cells-env';

beforeAll(async () => {
  await initBackend('wasm');
});

let tmpRoot = '';
beforeAll(async () => {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'export-test-'));
});
afterAll(async () => {
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const smallNet = { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 };

/** Value imports reachable from a source file (type-only imports are erased by the compiler). */
function valueImportClosure(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (files.includes(file)) continue;
    files.push(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)';/gm)) {
      if (m[1]) continue;
      const spec = m[2];
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), `${spec}.ts`));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

describe('policy export', () => {
  it('runs with @tensorflow/tfjs alone and reproduces the trained agent', async () => {
    const envs = [0, 1].map((i) => new BrightCellsEnv({ name: `x${i}` }));
    const agent = new PPO(envs, { nSteps: 12, batchSize: 24, nEpochs: 2, learningRate: 1e-3, net: smallNet, seed: 3 });
    await agent.learn({ totalTimesteps: 48 });
    const dir = path.join(tmpRoot, 'ppo-policy');
    await exportPolicy(agent, dir, { labelSource: 'recalibration' });
    expect((await fsp.readdir(dir)).sort()).toEqual(['policy.json', 'policy.weights.bin']);

    const runtime = await loadExportedPolicy(dir);
    expect(runtime.spec.metadata).toEqual({ labelSource: 'recalibration' });
    const probes = [0, 1, 2].map((i) => new BrightCellsEnv({ name: `probe${i}`, seed: 77 + i }));
    const observations: PromptObservation[] = [];
    for (const p of probes) observations.push((await p.reset()).observation);
    const want = await agent.predict(observations, { deterministic: true });
    expect(Array.from(runtime.act(observations))).toEqual(Array.from(want));
    const scores = runtime.scores(observations);
    const ref = tf.tidy(() => {
      const b = agent['batch'](observations);
      return agent.policy.forward(b).logits.dataSync();
    });
    expect(Array.from(scores)).toEqual(Array.from(ref));

    // The browser path: the same artifacts through fetch.
    const files: Record<string, Buffer> = {
      'http://host/p/policy.json': await fsp.readFile(path.join(dir, 'policy.json')),
      'http://host/p/policy.weights.bin': await fsp.readFile(path.join(dir, 'policy.weights.bin')),
    };
    const fakeFetch = (async (url: string) => {
      const body = files[url];
      return new Response(body ? new Uint8Array(body) : null, { status: body ? 200 : 404 });
    }) as unknown as typeof fetch;
    const viaUrl = await PolicyRuntime.fromUrl('http://host/p', { fetchFn: fakeFetch });
    expect(Array.from(viaUrl.act(observations))).toEqual(Array.from(want));
    await expect(PolicyRuntime.fromUrl('http://host/missing', { fetchFn: fakeFetch })).rejects.toThrow(/HTTP 404/);

    viaUrl.dispose();
    runtime.dispose();
    agent.dispose();
    for (const p of probes) await p.close();
  });

  it('exports DQN Q-networks too, and rejects inconsistent artifacts', async () => {
    const agent = new DQN(null, { net: smallNet, seed: 1 });
    const env = new BrightCellsEnv({ name: 'q' });
    const obs = (await env.reset({ seed: 1 })).observation;
    await agent.predict(obs);
    const { spec, weights } = await policyArtifacts(agent);
    expect(spec.algo).toBe('DQN');
    const rt = PolicyRuntime.fromArtifacts(spec, weights);
    expect(rt.act([obs])[0]).toBe(await agent.predict(obs, { deterministic: true }));
    rt.dispose();
    expect(() => PolicyRuntime.fromArtifacts(spec, weights.slice(4))).toThrow(
      /policy.weights.bin: \d+ bytes, but policy.json describes/,
    );
    expect(() => PolicyRuntime.fromArtifacts({ ...spec, format: 'x' }, weights)).toThrow(/not an exported policy/);
    const renamed = {
      ...spec,
      weightsManifest: spec.weightsManifest.map((e, i) => (i === 0 ? { ...e, name: 'bogus' } : e)),
    };
    expect(() => PolicyRuntime.fromArtifacts(renamed, weights)).toThrow(/unexpected tensor 'bogus'/);
    agent.dispose();
    await env.close();
  });

  it('the runtime imports nothing but @tensorflow/tfjs and zod, both browser-safe (no fs, no sharp, no training code)', () => {
    const { files, packages } = valueImportClosure(path.resolve(__dirname, '../../src/agent/export/policy-runtime.ts'));
    expect([...packages].sort()).toEqual(['@tensorflow/tfjs', 'zod']);
    const rel = files.map((f) => path.relative(path.resolve(__dirname, '../../src'), f));
    expect(rel.some((f) => /ppo|dqn|optim|buffer|base-agent|checkpoint/.test(f))).toBe(false);
  });
});
