/**
 * The performance tables of docs/performance.md, measured: per SAM preset (vit_b, vit_l, vit_h,
 * micro) load time, peak RSS, wasm heap, encoder s/image on one worker and on every worker, decoder
 * ms; and this project beside the official PyTorch code and onnxruntime-node on the vitb2 fixture,
 * interleaved (`peers`); and the encoder's kernels on one thread against the rate of a probe that
 * does nothing but multiply-adds, the machine's peak for them (`kernels`); and PPO and DQN on
 * full-size embeddings, PPO's peak RSS included (`agent`, scripts/bench-agent.ts). Each part runs in processes of its own (a preset's loading and memory in
 * scripts/sam-memory.ts, its speed in scripts/perf/measure-preset-speed.ts): a preset that aborts is
 * recorded as failed, with its error, and the others go on.
 *
 *   npm run bench:perf -- [--only vit_b,vit_l,vit_h,micro,peers,kernels,agent] [--write] [--images K]
 *     [--decoder-calls 10] [--rounds 6] [--sides wasm,wasm-pool,torch-1,torch-all,ort-1,ort-all]
 *     [--sam-repo <segment-anything checkout>] [--python <python with torch>]
 *   npm run bench:perf -- --render     rewrite the page from the committed data, measuring nothing
 *
 * With --write every finished part replaces its entry in docs/performance/performance.json (the
 * others are kept, so parts can be measured one at a time) and the page is rewritten. Random
 * weights of the ViT presets are drawn once into .cache/perf. The peers are optional: without
 * torch or a segment-anything checkout (default .cache/segment-anything when present) they are
 * recorded as skipped, with the reason.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeAll, writeFileAtomic } from '../src/io/atomic-file';
import {
  emptyPerformanceData,
  parsePerformanceData,
  PEER_SIDES,
  PERF_PRESETS,
  readPerformanceData,
  type AgentBenchResult,
  type KernelsResult,
  type MeasuredRun,
  type PerformanceData,
  type PerfPreset,
  type PresetRow,
} from '../src/report/performance-data';
import {
  agentMarkdown,
  kernelsMarkdown,
  peersMarkdown,
  presetsMarkdown,
  withPerformanceTables,
} from '../src/report/performance-page';
import { gitCommit, machineDescription } from '../src/runs/ablation-summary';
import { SAM_PRESETS } from '../src/sam/config';
import { availableCores } from '../src/sam/encoder-pool';
import { arg } from './cli-args';
import type { PeersResult } from './perf/measure-peers';
import type { PresetSpeed } from './perf/measure-preset-speed';
import { writeRandomCheckpoint } from './perf/random-checkpoint';
import { formatPresetMemory, measurePresetMemory } from './sam-memory';

const ROOT = path.resolve(__dirname, '..');
const MICRO_SAM = path.join(ROOT, 'models', 'micro-sam');
const PARTS = [...PERF_PRESETS, 'peers', 'kernels', 'agent'] as const;
type Part = (typeof PARTS)[number];
/** Options that say how to measure, as the provenance repeats them; the rest say what to do with it. */
const MEASURE_OPTIONS = ['images', 'decoder-calls', 'rounds', 'sides'];

const flag = (name: string) => process.argv.includes(`--${name}`);
const load1 = () => os.loadavg()[0];

/** The command that remeasures `part` as this one did. */
function commandFor(part: Part): string {
  const given = MEASURE_OPTIONS.filter((o) => arg(o, '') !== '').map((o) => `--${o} ${arg(o, '')}`);
  return ['npm run bench:perf -- --only', part, ...given].join(' ');
}

/**
 * Runs a script of scripts/perf in a child process. When it fails, resolves with the first line of
 * its stderr that names an error (else its last line, else how it exited: a SIGKILL is most often
 * the kernel's out-of-memory killer).
 */
function runChild(script: string, args: string[]): Promise<{ failure: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'perf', script), ...args],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] },
    );
    let tail = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ failure: null });
      const lines = tail.split('\n').map((l) => l.trim());
      const message = lines.find((l) => /error/i.test(l)) ?? lines.filter(Boolean).pop();
      resolve({ failure: message ?? `exited with ${signal ?? `code ${code}`}` });
    });
  });
}

/** What a preset's row holds before its provenance is added, and the backend it ran on. */
type PresetResult = Omit<PresetRow, 'run'> & { backend: string };

/** The weights file both halves load: random weights, drawn once into .cache/perf; the shipped micro-SAM. */
async function checkpointOf(preset: PerfPreset): Promise<string> {
  if (preset === 'micro') return MICRO_SAM;
  const file = path.join(ROOT, '.cache', 'perf', `${preset}-random.safetensors`);
  if (!fs.existsSync(file)) {
    console.log(`${preset}: drawing random weights into ${path.relative(ROOT, file)}`);
    await writeRandomCheckpoint(SAM_PRESETS[preset], file);
  }
  return file;
}

/**
 * A preset's row in two processes on the same weights file: loading and memory by
 * scripts/sam-memory.ts (one 1024-px image encoded), then the speed half. A preset that fails
 * keeps what was measured before, with the error.
 */
async function measurePresetPart(preset: PerfPreset, out: string): Promise<PresetResult> {
  const decoderCalls = Number(arg('decoder-calls', '10'));
  const checkpoint = await checkpointOf(preset);
  const memory = await measurePresetMemory(preset, { via: 'safetensors', checkpoint }).catch((err: Error) => err);
  const row: PresetResult = {
    preset,
    backend: memory instanceof Error ? 'wasm' : memory.backend,
    weights: preset === 'micro' ? path.relative(ROOT, MICRO_SAM) : 'random',
    simdKernels: memory instanceof Error ? null : memory.simdKernels,
    parameters: memory instanceof Error || memory.parameters === 0 ? null : memory.parameters,
    imageSize: [640, 480],
    loadSeconds: memory instanceof Error ? null : memory.loadSeconds,
    peakRssBytes: memory instanceof Error ? null : memory.peakRssBytes,
    wasmHeapBytes: memory instanceof Error ? null : memory.wasmHeapBytes,
    encoderOneWorker: null,
    encoderAllWorkers: null,
    decoderMs: null,
    decoderCalls,
    error: memory instanceof Error ? memory.message.split('\n')[0] : memory.error,
  };
  console.log(memory instanceof Error ? `${preset}: ${row.error}` : formatPresetMemory(memory));
  if (row.error) return row;

  const images = arg('images', preset === 'micro' ? '16' : '2');
  const args = ['--checkpoint', checkpoint, '--out', out];
  args.push('--images', images, '--decoder-calls', String(decoderCalls));
  const { failure } = await runChild('measure-preset-speed.ts', args);
  const speed: PresetSpeed | null = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : null;
  return { ...row, ...speed, error: speed?.error ?? failure };
}

async function measurePeersPart(out: string): Promise<PeersResult> {
  const defaultRepo = path.join(ROOT, '.cache', 'segment-anything');
  const samRepo = arg('sam-repo', fs.existsSync(defaultRepo) ? defaultRepo : '');
  const args = ['--out', out, '--rounds', arg('rounds', '6'), '--decoder-calls', arg('decoder-calls', '10')];
  if (arg('python', '')) args.push('--python', arg('python', ''));
  if (samRepo) args.push('--sam-repo', path.resolve(samRepo));
  if (arg('sides', '')) args.push('--sides', arg('sides', ''));
  const { failure } = await runChild('measure-peers.ts', args);
  if (failure || !fs.existsSync(out)) throw new Error(failure ?? 'no result written');
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

async function measureKernelsPart(out: string): Promise<KernelsResult> {
  const { failure } = await runChild('measure-kernels.ts', ['--out', out, '--rounds', arg('rounds', '5')]);
  if (failure || !fs.existsSync(out)) throw new Error(failure ?? 'no result written');
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

async function measureAgentPart(out: string): Promise<AgentBenchResult> {
  const { failure } = await runChild(path.join('..', 'bench-agent.ts'), ['--real-env', '0', '--json', out]);
  if (failure || !fs.existsSync(out)) throw new Error(failure ?? 'no result written');
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

async function writeText(file: string, text: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, (handle) => writeAll(handle, new TextEncoder().encode(text)));
}

async function render(data: PerformanceData, dataFile: string, doc: string): Promise<void> {
  await writeText(dataFile, `${JSON.stringify(data, null, 2)}\n`);
  await writeText(doc, withPerformanceTables(fs.readFileSync(doc, 'utf8'), data, doc));
  console.log(`wrote ${path.relative(ROOT, dataFile)} and the tables of ${path.relative(ROOT, doc)}`);
}

async function main(): Promise<void> {
  const dataFile = path.resolve(arg('data', path.join(ROOT, 'docs', 'performance', 'performance.json')));
  const doc = path.resolve(arg('doc', path.join(ROOT, 'docs', 'performance.md')));
  const stored = () => (fs.existsSync(dataFile) ? readPerformanceData(dataFile) : emptyPerformanceData());
  if (flag('render')) return render(stored(), dataFile, doc);

  const parts = arg('only', PARTS.join(',')).split(',').filter(Boolean) as Part[];
  const unknown = parts.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0)
    throw new Error(`bench:perf: --only: unknown part ${unknown.join(', ')} (known: ${PARTS.join(', ')})`);
  const sides = arg('sides', '').split(',').filter(Boolean);
  const unknownSides = sides.filter((s) => !(PEER_SIDES as readonly string[]).includes(s));
  if (unknownSides.length > 0)
    throw new Error(`bench:perf: --sides: unknown ${unknownSides.join(', ')} (known: ${PEER_SIDES.join(', ')})`);
  for (const option of ['images', 'rounds', 'decoder-calls']) {
    const n = Number(arg(option, '1'));
    if (!(Number.isInteger(n) && n >= 1))
      throw new Error(`bench:perf: --${option} must be an integer >= 1, got ${arg(option, '')}`);
  }
  for (const option of ['sam-repo'])
    if (arg(option, '') && !fs.existsSync(arg(option, '')))
      throw new Error(`bench:perf: --${option}: ${arg(option, '')} does not exist`);
  // Read before measuring: a stored file that does not validate, or a page without the markers,
  // stops the command before any work.
  let data = stored();
  if (flag('write')) withPerformanceTables(fs.readFileSync(doc, 'utf8'), data, doc);
  const failed: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-perf-'));
  const started = performance.now();
  try {
    for (const part of parts) {
      console.log(`\n=== ${part} (load average ${load1().toFixed(2)}) ===`);
      const run = { date: new Date().toISOString(), loadBefore: load1() };
      const t = performance.now();
      const out = path.join(tmp, `${part}.json`);
      let result: PeersResult | PresetResult | KernelsResult | AgentBenchResult;
      try {
        result =
          part === 'peers'
            ? await measurePeersPart(out)
            : part === 'kernels'
              ? await measureKernelsPart(out)
              : part === 'agent'
                ? await measureAgentPart(out)
                : await measurePresetPart(part, out);
      } catch (err) {
        failed.push(`${part}: ${(err as Error).message}`);
        continue;
      }
      const { backend, ...rest } = result;
      const measured: MeasuredRun = {
        ...run,
        commit: gitCommit(),
        machine: machineDescription(),
        cores: availableCores(),
        backend,
        loadAfter: load1(),
        wallSeconds: (performance.now() - t) / 1000,
        command: commandFor(part),
      };
      const next: PerformanceData =
        part === 'peers'
          ? { ...data, peers: { run: measured, ...(rest as Omit<PeersResult, 'backend'>) } }
          : part === 'kernels'
            ? { ...data, kernels: { run: measured, ...(rest as Omit<KernelsResult, 'backend'>) } }
            : part === 'agent'
              ? { ...data, agent: { run: measured, ...(rest as Omit<AgentBenchResult, 'backend'>) } }
              : {
                  ...data,
                  presets: [
                    ...data.presets.filter((r) => r.preset !== part),
                    { run: measured, ...(rest as Omit<PresetRow, 'run'>) },
                  ].sort((a, b) => PERF_PRESETS.indexOf(a.preset) - PERF_PRESETS.indexOf(b.preset)),
                };
      data = parsePerformanceData(next, `the ${part} measurement`);
      console.log(
        `${part}: ${measured.wallSeconds.toFixed(0)} s wall, load average ${measured.loadBefore.toFixed(2)} -> ${measured.loadAfter.toFixed(2)}`,
      );
      if (flag('write')) await render(data, dataFile, doc);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const only = { ...data, presets: data.presets.filter((r) => parts.includes(r.preset)) };
  if (parts.some((p) => (PERF_PRESETS as readonly string[]).includes(p))) console.log(`\n${presetsMarkdown(only)}`);
  if (parts.includes('peers')) console.log(`\n${peersMarkdown(data)}`);
  if (parts.includes('kernels')) console.log(`\n${kernelsMarkdown(data)}`);
  if (parts.includes('agent')) console.log(`\n${agentMarkdown(data)}`);
  console.log(
    `\nbench:perf: ${parts.join(', ')} in ${((performance.now() - started) / 1000).toFixed(0)} s${flag('write') ? '' : ' (not saved: --write saves)'}`,
  );
  if (failed.length > 0) throw new Error(`bench:perf: not measured, nothing stored for them:\n${failed.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
