/**
 * The performance tables of docs/performance.md, measured: per SAM preset (vit_b, vit_l, vit_h,
 * micro) load time, peak RSS, wasm heap, encoder s/image on one worker and on every worker, decoder
 * ms; and this project beside the official PyTorch code and onnxruntime-node on the vitb2 fixture,
 * interleaved (`peers`). Each part runs in a process of its own: a preset that aborts is recorded
 * as failed, with its error, and the others go on.
 *
 *   npm run bench:perf -- [--only vit_b,vit_l,vit_h,micro,peers] [--write] [--images K]
 *     [--decoder-calls 10] [--rounds 6] [--sides wasm,wasm-pool,torch-1,torch-all,ort-1,ort-all]
 *     [--sam-repo <segment-anything checkout>] [--python <python with torch>] [--vit-b <checkpoint>] ...
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
  PERF_PRESETS,
  readPerformanceData,
  type MeasuredRun,
  type PerformanceData,
  type PerfPreset,
  type PresetRow,
} from '../src/report/performance-data';
import { peersMarkdown, presetsMarkdown, withPerformanceTables } from '../src/report/performance-page';
import { gitCommit, machineDescription } from '../src/runs/ablation-summary';
import { SAM_PRESETS } from '../src/sam/config';
import { availableCores } from '../src/sam/encoder-pool';
import { arg } from './cli-args';
import type { PeersResult } from './perf/measure-peers';
import { parameterCount, type PresetResult } from './perf/measure-preset';
import { writeRandomCheckpoint } from './perf/random-checkpoint';

const ROOT = path.resolve(__dirname, '..');
const PARTS = [...PERF_PRESETS, 'peers'] as const;
type Part = (typeof PARTS)[number];
/** Options that say how to measure, as the provenance repeats them; the rest say what to do with it. */
const MEASURE_OPTIONS = ['images', 'decoder-calls', 'rounds', 'sides', 'backend', 'vit-b', 'vit-l', 'vit-h'];

const flag = (name: string) => process.argv.includes(`--${name}`);
const load1 = () => os.loadavg()[0];

/** The command that remeasures `part` as this one did. */
function commandFor(part: Part): string {
  const given = MEASURE_OPTIONS.filter((o) => arg(o, '') !== '').map((o) => `--${o} ${arg(o, '')}`);
  return ['npm run bench:perf -- --only', part, ...given].join(' ');
}

/** Runs a part's script in a child process; resolves with the last line it wrote to stderr, if it failed. */
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

/** The checkpoint a preset is measured with, and how the table names its weights. */
async function checkpointOf(preset: PerfPreset): Promise<{ checkpoint: string; weights: string }> {
  if (preset === 'micro') return { checkpoint: path.join(ROOT, 'models', 'micro-sam'), weights: 'models/micro-sam' };
  const given = arg(preset.replace('_', '-'), '');
  if (given) return { checkpoint: path.resolve(given), weights: path.basename(given) };
  const file = path.join(ROOT, '.cache', 'perf', `${preset}-random.safetensors`);
  if (!fs.existsSync(file)) {
    console.log(`${preset}: drawing random weights into ${path.relative(ROOT, file)}`);
    await writeRandomCheckpoint(SAM_PRESETS[preset], file);
  }
  return { checkpoint: file, weights: 'random' };
}

async function measurePresetPart(
  preset: PerfPreset,
  out: string,
): Promise<Omit<PresetRow, 'run'> & { backend: string }> {
  const { checkpoint, weights } = await checkpointOf(preset);
  const images = arg('images', preset === 'micro' ? '16' : '2');
  const args = ['--preset', preset, '--checkpoint', checkpoint, '--weights', weights, '--out', out];
  args.push('--images', images, '--decoder-calls', arg('decoder-calls', '10'), '--backend', arg('backend', 'wasm'));
  const { failure } = await runChild('measure-preset.ts', args);
  const partial: PresetResult | null = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : null;
  if (!failure && partial) return partial;
  return {
    ...(partial ?? {
      preset,
      backend: arg('backend', 'wasm'),
      weights,
      parameters: await parameterCount(checkpoint),
      imageSize: [640, 480],
      loadSeconds: null,
      peakRssBytes: null,
      wasmHeapBytes: null,
      encoderOneWorker: null,
      encoderAllWorkers: null,
      decoderMs: null,
      decoderCalls: Number(arg('decoder-calls', '10')),
    }),
    error: partial?.error ?? failure ?? 'the measuring process wrote no result',
  };
}

async function measurePeersPart(out: string): Promise<PeersResult> {
  const defaultRepo = path.join(ROOT, '.cache', 'segment-anything');
  const samRepo = arg('sam-repo', fs.existsSync(defaultRepo) ? defaultRepo : '');
  const args = ['--out', out, '--rounds', arg('rounds', '6'), '--decoder-calls', arg('decoder-calls', '10')];
  args.push('--backend', arg('backend', 'wasm'));
  if (arg('python', '')) args.push('--python', arg('python', ''));
  if (samRepo) args.push('--sam-repo', path.resolve(samRepo));
  if (arg('sides', '')) args.push('--sides', arg('sides', ''));
  const { failure } = await runChild('measure-peers.ts', args);
  if (failure || !fs.existsSync(out)) throw new Error(`peers: ${failure ?? 'no result written'}`);
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
  // Read before measuring: a stored file that does not validate stops the command before any work.
  let data = stored();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-perf-'));
  const started = performance.now();
  try {
    for (const part of parts) {
      console.log(`\n=== ${part} (load average ${load1().toFixed(2)}) ===`);
      const run = { date: new Date().toISOString(), loadBefore: load1() };
      const t = performance.now();
      const out = path.join(tmp, `${part}.json`);
      const result = part === 'peers' ? await measurePeersPart(out) : await measurePresetPart(part, out);
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
  if (parts.some((p) => p !== 'peers')) console.log(`\n${presetsMarkdown(only)}`);
  if (parts.includes('peers')) console.log(`\n${peersMarkdown(data)}`);
  console.log(
    `\nbench:perf: ${parts.join(', ')} in ${((performance.now() - started) / 1000).toFixed(0)} s${flag('write') ? '' : ' (not saved: --write saves)'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
