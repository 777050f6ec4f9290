/**
 * This project beside its peers on the same weights (the vitb2 fixture), interleaved round by
 * round: the wasm backend on one thread and over every core (EncoderPool), the official PyTorch
 * code and onnxruntime-node, each on one thread and on every core. A peer that cannot run here
 * (no torch, no segment-anything checkout, onnxruntime-node not installable) is recorded as
 * skipped with the reason. `npm run bench:perf` runs this in a process of its own.
 *
 *   ts-node scripts/perf/measure-peers.ts --out <json> [--sides wasm,wasm-pool,torch-1,torch-all,ort-1,ort-all]
 *     [--rounds 6] [--decoder-calls 10] [--sam-repo <checkout>] [--python <python with torch>] [--onnx-dir .cache/onnx/vitb2]
 */
import * as fs from 'fs';
import * as path from 'path';
import { BackendName, initBackend } from '../../src/backend';
import { PEER_SIDES, type PeerComparison, type PeerSide, type PeerSideId } from '../../src/report/performance-data';
import { availableCores } from '../../src/sam/encoder-pool';
import { encoderFlops } from '../../src/sam/flops';
import { loadSam } from '../../src/sam/pretrained';
import { Rng } from '../../src/utils/rng';
import { arg, requiredArg } from '../cli-args';
import { runInterleaved, type Side } from './interleaved';
import { findPython, OfficialProcess, officialUnavailable } from './official-side';
import { exportedOnnx, loadOnnxRuntime, onnxSide, type OnnxRuntime } from './onnx-side';
import { callingThreadSide, encoderPoolSide } from './ours-sides';

const ROOT = path.resolve(__dirname, '..', '..');
export const PEERS_FIXTURE = path.resolve(ROOT, '../shared/fixtures/sam/vitb2');

/** What the child reports: the comparison without its provenance, which the caller adds. */
export type PeersResult = Omit<PeerComparison, 'run'> & { backend: string };

async function main(): Promise<void> {
  const out = requiredArg('measure-peers', 'out');
  const wanted = arg('sides', PEER_SIDES.join(',')).split(',').filter(Boolean) as PeerSideId[];
  const unknown = wanted.filter((s) => !PEER_SIDES.includes(s));
  if (unknown.length > 0)
    throw new Error(`measure-peers: --sides: unknown ${unknown.join(', ')} (known: ${PEER_SIDES.join(', ')})`);
  const rounds = Number(arg('rounds', '6'));
  const decoderCalls = Number(arg('decoder-calls', '10'));
  const given = arg('python', '');
  const { python } = findPython(given ? [given] : ['python3', '/usr/bin/python3']);
  const samRepo = arg('sam-repo', '') || null;
  const onnxDir = path.resolve(arg('onnx-dir', path.join(ROOT, '.cache', 'onnx', 'vitb2')));
  const cores = availableCores();

  const backend = await initBackend(arg('backend', 'wasm') as BackendName);
  const weights = path.join(PEERS_FIXTURE, 'weights.safetensors');
  const sam = await loadSam(weights);
  const rng = new Rng(0);
  const [width, height] = [320, 240];
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const image = { width, height, data };

  const sides: Side[] = [];
  const notRun = new Map<PeerSideId, Omit<PeerSide, 'id' | 'encoderMs' | 'decoderMs'>>();
  const threadsOf = (id: PeerSideId) => (id.endsWith('-1') || id === 'wasm' ? 1 : cores);
  const plural = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
  /** Starts a side, or records why it was skipped or failed to start. */
  const add = async (id: PeerSideId, label: string, make: () => Promise<Side>, unavailable: string | null = null) => {
    if (!wanted.includes(id)) return;
    const threads = threadsOf(id);
    const reason = unavailable ?? (threads > 1 && cores === 1 ? 'one core: the side would be its 1-thread side' : null);
    if (reason) return notRun.set(id, { label, threads, status: 'skipped', reason });
    try {
      sides.push(await make());
    } catch (err) {
      notRun.set(id, { label, threads, status: 'failed', reason: (err as Error).message.split('\n')[0] });
    }
  };

  await add('wasm', `this project (${backend}, 1 thread)`, async () => callingThreadSide(sam, image, backend));
  await add('wasm-pool', `this project (${backend}, ${cores} workers)`, () =>
    encoderPoolSide(sam, weights, image, cores),
  );
  const wantsTorch = wanted.some((id) => id.startsWith('torch') || id.startsWith('ort'));
  const noTorch = wantsTorch ? officialUnavailable(python, samRepo) : null;
  for (const id of ['torch-1', 'torch-all'] as const)
    await add(
      id,
      `official PyTorch (${plural(threadsOf(id))})`,
      async () => {
        const official = new OfficialProcess(python, samRepo!, PEERS_FIXTURE, threadsOf(id), id);
        try {
          console.log(`${id}: ${await official.ready()}`);
        } catch (err) {
          await official.close();
          throw err;
        }
        return official;
      },
      noTorch,
    );

  let ort: { runtime: OnnxRuntime; dir: string } | null = null;
  let noOrt: string | null = null;
  if (wanted.some((id) => id.startsWith('ort'))) {
    try {
      // The export needs what the official side needs, and onnx.
      if (noTorch) throw new Error(`cannot export the weights to ONNX: ${noTorch}`);
      ort = { runtime: loadOnnxRuntime(), dir: exportedOnnx(python, samRepo!, PEERS_FIXTURE, onnxDir) };
    } catch (err) {
      noOrt = (err as Error).message;
    }
  }
  for (const id of ['ort-1', 'ort-all'] as const)
    await add(
      id,
      `onnxruntime-node (${plural(threadsOf(id))})`,
      () => onnxSide(ort!.runtime, ort!.dir, sam.config, image, threadsOf(id), id),
      noOrt,
    );

  console.log(`sides: ${sides.map((s) => s.label).join('; ')}`);
  for (const [id, s] of notRun) console.log(`${s.status} ${id}: ${s.reason}`);
  const series = await runInterleaved(sides, {
    rounds,
    decoderCalls,
    onRound: (r, first, done) => {
      const parts = sides.map((s) => {
        const x = done.get(s)!;
        if (x.error) return `${s.id} failed`;
        const dec = x.decoderMs.length > r ? ` / ${x.decoderMs[r].toFixed(1)} ms` : '';
        return `${s.id} ${(x.encoderMs[r] / 1000).toFixed(2)} s${dec}`;
      });
      console.log(`round ${r + 1}/${rounds} (first ${first.id}): ${parts.join(', ')}`);
    },
  });
  for (const s of sides) await s.close();
  sam.dispose();

  const measured = new Map<string, PeerSide>();
  for (const [s, x] of series)
    measured.set(s.id, {
      id: s.id as PeerSideId,
      label: s.label,
      threads: s.threads,
      status: x.error ? 'failed' : 'ok',
      reason: x.error,
      encoderMs: x.encoderMs,
      decoderMs: x.decoderMs,
    });
  for (const [id, s] of notRun) measured.set(id, { id, ...s, encoderMs: [], decoderMs: [] });
  const result: PeersResult = {
    backend,
    fixture: path.basename(PEERS_FIXTURE),
    imageSize: [width, height],
    encoderGflop: encoderFlops(sam.config) / 1e9,
    rounds,
    decoderCalls,
    sides: PEER_SIDES.filter((id) => measured.has(id)).map((id) => measured.get(id)!),
  };
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(result));
  fs.renameSync(`${out}.tmp`, out);
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
