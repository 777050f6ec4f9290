/**
 * This project against the official SAM code, interleaved: each round times one encoder pass and a
 * few decoder calls here, then the same in the official code (a long-lived Python process running
 * scripts/reference/bench_official_sam.py --serve), alternating which goes first. On a VM whose
 * speed drifts from minute to minute, back-to-back pairs are the comparison that drift disturbs
 * least; the script prints every round and, per row, the medians, their ratio and how many rounds
 * each side won.
 *
 *   npm run bench:paired -- --sam-repo /path/to/segment-anything [--python <python with torch>] [--rounds 6]
 *     [--decoder-calls 10] [--threads 1]
 *
 * Same weights (the vitb2 fixture), image size (320x240) and prompt (one positive point,
 * multimask, low-res logits) on both sides; the official side runs with --threads torch threads.
 */
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/backend';
import { loadSam } from '../src/sam/pretrained';
import { Rng } from '../src/utils/rng';
import { arg, requiredArg } from './cli-args';
import { median } from '../src/utils/median';
import { runInterleaved } from './perf/interleaved';
import { findPython, OfficialProcess } from './perf/official-side';
import { callingThreadSide } from './perf/ours-sides';

async function main(): Promise<void> {
  const samRepo = path.resolve(requiredArg('bench:paired', 'sam-repo'));
  const given = arg('python', '');
  const { python } = findPython(given ? [given] : ['python3', '/usr/bin/python3']);
  const rounds = Number(arg('rounds', '6'));
  const decoderCalls = Number(arg('decoder-calls', '10'));
  const threads = Number(arg('threads', '1'));
  const fixture = path.resolve(__dirname, '../../shared/fixtures/sam/vitb2');

  const official = new OfficialProcess(python, samRepo, fixture, threads);
  const header = await official.ready();
  const backend = await initBackend('auto');
  const sam = await loadSam(path.join(fixture, 'weights.safetensors'));
  const rng = new Rng(0);
  const [width, height] = [320, 240];
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const ours = callingThreadSide(sam, { width, height, data }, backend);

  console.log(
    `ours: backend ${backend}, 1 thread; official: ${header}; ${os.cpus().length} CPUs, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `round  first     encoder ours / official (ms)   decoder median ours / official (ms, ${decoderCalls} calls)`,
  );
  const series = await runInterleaved([ours, official], {
    rounds,
    decoderCalls,
    onRound: (r, first, done) => {
      const [a, b] = [done.get(ours)!, done.get(official)!];
      if (a.error || b.error) return;
      console.log(
        `${String(r + 1).padStart(5)}  ${(first === ours ? 'ours' : 'official').padEnd(9)} ${a.encoderMs[r].toFixed(0).padStart(12)} / ${b.encoderMs[r].toFixed(0).padEnd(16)}` +
          `${a.decoderMs[r].toFixed(1).padStart(12)} / ${b.decoderMs[r].toFixed(1)}`,
      );
    },
  });
  await official.close();
  await ours.close();
  for (const [side, s] of series) if (s.error) throw new Error(`${side.label}: ${s.error}`);
  const summary = (name: string, key: 'encoderMs' | 'decoderMs') => {
    const [a, b] = [series.get(ours)![key], series.get(official)![key]];
    const wins = a.filter((v, i) => v < b[i]).length;
    const ratio = median(b) / median(a);
    console.log(
      `${name}: median ours ${median(a).toFixed(1)} ms, official ${median(b).toFixed(1)} ms; ` +
        `ours ${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : `${(1 / ratio).toFixed(2)}x slower`}; ours faster in ${wins} of ${a.length} rounds`,
    );
  };
  summary('encoder', 'encoderMs');
  summary('decoder', 'decoderMs');
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
