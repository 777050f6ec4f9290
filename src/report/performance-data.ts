/**
 * The measured performance (docs/performance/performance.json): per SAM preset, what loading and
 * encoding cost on the default backend; and one interleaved run of this project beside its peers
 * (the official PyTorch code, onnxruntime-node) on the same weights; the encoder's kernels
 * against the machine's multiply-add peak; and the agents on full-size embeddings. Each part says when, where and
 * at which commit it was measured, since parts are remeasured one at a time. This JSON is the one
 * source of the tables in docs/performance.md; `npm run bench:perf` writes it.
 */
import * as fs from 'fs';
import type { z } from 'zod';
import { s, validate } from '../schema/schema';

export const PERFORMANCE_FORMAT = 'alignsam-tfjs/performance';

export const PERF_PRESETS = ['vit_b', 'vit_l', 'vit_h', 'micro'] as const;
export type PerfPreset = (typeof PERF_PRESETS)[number];

const seconds = () => s.number({ min: 0 });

const measuredRun = s.object({
  date: s.string({ pattern: /^\d{4}-\d{2}-\d{2}T/, patternText: 'an ISO date' }).describe('When the part started.'),
  commit: s.string({ nonEmpty: true }).nullable().describe('The commit measured (null outside a git checkout).'),
  machine: s.string({ nonEmpty: true }).describe('CPUs, memory and Node version.'),
  cores: s.integer({ min: 1 }).describe('Cores the process could use.'),
  backend: s.string({ nonEmpty: true }),
  loadBefore: s.number({ min: 0 }).describe('1-minute load average before the part.'),
  loadAfter: s.number({ min: 0 }).describe('1-minute load average after the part.'),
  wallSeconds: seconds().describe('Wall time of the part.'),
  command: s.string({ nonEmpty: true }).describe('The command that measured it.'),
});

const encoderThroughput = s.object({
  workers: s.integer({ min: 1 }),
  images: s.integer({ min: 1 }),
  secondsPerImage: seconds().describe('Wall time over images: what a batch of images costs each.'),
});

const presetRow = s.object({
  preset: s.enum(PERF_PRESETS),
  run: measuredRun,
  weights: s.string({ nonEmpty: true }).describe("'random' or the checkpoint measured."),
  simdKernels: s
    .string({ nonEmpty: true })
    .nullable()
    .describe("Which build of the project's SIMD kernels ran: 'relaxed', 'plain' or 'off' (null: not known)."),
  parameters: s.integer({ min: 1 }).nullable().describe('Values in the weights file (null: it could not be read).'),
  imageSize: s.array(s.integer({ min: 1 }), { minItems: 2, maxItems: 2 }).describe('[width, height] encoded.'),
  loadSeconds: seconds().nullable(),
  peakRssBytes: s.integer({ min: 0 }).nullable().describe('Peak RSS over loading and one encode on one thread.'),
  wasmHeapBytes: s.integer({ min: 0 }).nullable().describe('The wasm heap after that encode (null off wasm).'),
  encoderOneWorker: encoderThroughput.nullable(),
  encoderAllWorkers: encoderThroughput.nullable(),
  decoderMs: s.number({ min: 0 }).nullable().describe('Median ms of one decoder call, one prompt set, low-res.'),
  decoderCalls: s.integer({ min: 0 }),
  error: s.string({ nonEmpty: true }).nullable().describe('Why the part stopped (null when it finished).'),
});

export const PEER_SIDES = ['wasm', 'wasm-pool', 'torch-1', 'torch-all', 'ort-1', 'ort-all'] as const;
export type PeerSideId = (typeof PEER_SIDES)[number];

const peerSide = s.object({
  id: s.enum(PEER_SIDES),
  label: s.string({ nonEmpty: true }),
  threads: s.integer({ min: 1 }).describe('Threads (or workers) it may use.'),
  status: s.enum(['ok', 'skipped', 'failed'] as const),
  reason: s.string({ nonEmpty: true }).nullable().describe('Why it was skipped or failed.'),
  encoderMs: s.array(s.number({ min: 0 })).describe('Per round: ms per image.'),
  decoderMs: s.array(s.number({ min: 0 })).describe('Per round: median ms of the decoder calls (empty: not measured).'),
});

const peers = s.object({
  run: measuredRun,
  fixture: s.string({ nonEmpty: true }),
  imageSize: s.array(s.integer({ min: 1 }), { minItems: 2, maxItems: 2 }),
  encoderGflop: s.number({ min: 0 }).describe("The encoder's GFLOP per image in the reference algorithm."),
  rounds: s.integer({ min: 1 }),
  decoderCalls: s.integer({ min: 1 }),
  sides: s.array(peerSide, { minItems: 1 }),
});

const kernelRow = s.object({
  name: s.string({ nonEmpty: true }),
  shape: s.string({ nonEmpty: true }).describe('The operands, as the encoder gives them.'),
  gflop: s.number({ min: 0 }).describe('Its GFLOP in the reference algorithm (src/sam/flops.ts counts the same).'),
  ms: s.array(s.number({ min: 0 }), { minItems: 1 }).describe('Per round: one call, ms.'),
});

const kernels = s.object({
  run: measuredRun,
  build: s.enum(['relaxed', 'plain'] as const).describe('The SIMD module measured (relaxed: fused multiply-adds).'),
  rounds: s.integer({ min: 1 }),
  peakGflops: s
    .array(s.number({ min: 0 }), { minItems: 1 })
    .describe("Per round: the multiply-add probe's GFLOP/s on one thread, the rate no kernel of this build can pass."),
  kernels: s.array(kernelRow, { minItems: 1 }),
});

const agent = s.object({
  run: measuredRun,
  envs: s.integer({ min: 1 }),
  epochs: s.integer({ min: 1 }).describe("PPO's epochs per update."),
  embedding: s.array(s.integer({ min: 1 }), { minItems: 3, maxItems: 3 }).describe('[C, H, W] of each observation.'),
  grid: s.integer({ min: 1 }),
  horizon: s.integer({ min: 1 }),
  ppoParameters: s.integer({ min: 1 }),
  ppoUpdateSamplesPerSecond: s.number({ min: 0 }),
  ppoRolloutMsPerVectorStep: s
    .number({ min: 0 })
    .describe("The agent's side of one vector step (the env is a stand-in that costs nothing)."),
  ppoPeakRssBytes: s.integer({ min: 0 }).describe("The process's peak RSS over PPO's rollouts and updates."),
  dqnGradientStepsPerSecond: s.number({ min: 0 }).nullable(),
});

const performanceData = s.object({
  format: s.literal(PERFORMANCE_FORMAT),
  formatVersion: s.literal(1),
  presets: s.array(presetRow),
  peers: peers.nullable(),
  kernels: kernels.nullable().default(null),
  agent: agent.nullable().default(null),
});

export type MeasuredRun = z.infer<typeof measuredRun>;
export type EncoderThroughput = z.infer<typeof encoderThroughput>;
export type PresetRow = z.infer<typeof presetRow>;
export type PeerSide = z.infer<typeof peerSide>;
export type PeerComparison = z.infer<typeof peers>;
export type KernelRow = z.infer<typeof kernelRow>;
export type KernelsMeasurement = z.infer<typeof kernels>;
/** What scripts/perf/measure-kernels.ts writes: the kernels part before its provenance. */
export type KernelsResult = Omit<KernelsMeasurement, 'run'> & { backend: string };
export type AgentMeasurement = z.infer<typeof agent>;
/** What scripts/bench-agent.ts writes with --json: the agent part before its provenance. */
export type AgentBenchResult = Omit<AgentMeasurement, 'run'> & { backend: string };
export type PerformanceData = z.infer<typeof performanceData>;

export function emptyPerformanceData(): PerformanceData {
  return { format: PERFORMANCE_FORMAT, formatVersion: 1, presets: [], peers: null, kernels: null, agent: null };
}

/** Check a parsed performance JSON; every problem is named by its field, after `source`. */
export function parsePerformanceData(value: unknown, source: string): PerformanceData {
  const { value: parsed, issues } = validate(performanceData, value);
  if (issues.length > 0) throw new Error(`${source}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const data = parsed!;
  const seen = new Set<string>();
  for (const [i, row] of data.presets.entries()) {
    if (seen.has(row.preset)) throw new Error(`${source}: presets[${i}].preset: '${row.preset}' is listed twice`);
    seen.add(row.preset);
  }
  for (const [i, side] of (data.peers?.sides ?? []).entries()) {
    const where = `${source}: peers.sides[${i}]`;
    if (side.status === 'ok' && side.encoderMs.length !== data.peers!.rounds)
      throw new Error(
        `${where}.encoderMs: expected one value per round (${data.peers!.rounds}), got ${side.encoderMs.length}`,
      );
    if (side.status !== 'ok' && side.reason === null)
      throw new Error(`${where}.reason: a ${side.status} side says why`);
  }
  for (const [i, row] of (data.kernels?.kernels ?? []).entries())
    if (row.ms.length !== data.kernels!.rounds)
      throw new Error(
        `${source}: kernels.kernels[${i}].ms: expected one value per round (${data.kernels!.rounds}), got ${row.ms.length}`,
      );
  if (data.kernels && data.kernels.peakGflops.length !== data.kernels.rounds)
    throw new Error(
      `${source}: kernels.peakGflops: expected one value per round (${data.kernels.rounds}), got ${data.kernels.peakGflops.length}`,
    );
  return data;
}

export function readPerformanceData(file: string): PerformanceData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the performance data (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  return parsePerformanceData(json, file);
}
