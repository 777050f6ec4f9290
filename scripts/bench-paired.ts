/**
 * This project against the official SAM code, interleaved: each round times one encoder pass and a
 * few decoder calls here, then the same in the official code (a long-lived Python process running
 * scripts/reference/bench_official_sam.py --serve), alternating which goes first. On a VM whose
 * speed drifts from minute to minute, back-to-back pairs are the comparison that drift disturbs
 * least; the script prints every round and, per row, the medians, their ratio and how many rounds
 * each side won.
 *
 *   npm run bench:paired -- --sam-repo /path/to/segment-anything [--python python3] [--rounds 6]
 *     [--decoder-calls 10] [--threads 1]
 *
 * Same weights (the vitb2 fixture), image size (320x240) and prompt (one positive point,
 * multimask, low-res logits) on both sides; the official side runs with --threads torch threads.
 */
import { spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { initBackend } from '../src/backend';
import { loadSam } from '../src/sam/pretrained';
import { encodeImage } from '../src/sam/image-encoding';
import { SamPredictor, disposePrediction } from '../src/sam/predictor';
import { Rng } from '../src/utils/rng';
import { arg, requiredArg } from './cli-args';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The official side: one Python process answering 'encoder' / 'decoder N' with times in ms. */
class OfficialProcess {
  private readonly lines: AsyncIterableIterator<string>;
  private readonly child;

  constructor(python: string, samRepo: string, fixture: string, threads: number) {
    const script = path.join(__dirname, 'reference', 'bench_official_sam.py');
    this.child = spawn(
      python,
      [script, '--sam-repo', samRepo, '--fixture', fixture, '--threads', String(threads), '--serve'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.lines = readline.createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async ready(): Promise<string> {
    const header = await this.next();
    const ready = await this.next();
    if (ready !== 'ready') throw new Error(`official process: expected 'ready', got '${ready}'`);
    return header;
  }

  async run(command: string): Promise<number[]> {
    this.child.stdin!.write(`${command}\n`);
    const reply = await this.next();
    if (!reply.startsWith('ms ')) throw new Error(`official process: '${command}' answered '${reply}'`);
    return reply.slice(3).split(' ').map(Number);
  }

  private async next(): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('official process ended early (see its error above)');
    return value;
  }

  close(): void {
    this.child.stdin!.end('quit\n');
  }
}

async function main(): Promise<void> {
  const samRepo = path.resolve(requiredArg('bench:paired', 'sam-repo'));
  const python = arg('python', 'python3');
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
  const image = { width, height, data };
  let embedding = encodeImage(sam, image);
  const predictor = new SamPredictor(sam);
  predictor.setEmbedding(embedding);
  const prompt = {
    pointCoords: [width * 0.4, height * 0.6],
    pointLabels: [1],
    multimaskOutput: true,
    lowResOnly: true,
  };

  const ours = {
    async encoder(): Promise<number> {
      embedding.dispose();
      const t = performance.now();
      embedding = encodeImage(sam, image);
      await embedding.embedding.data();
      const ms = performance.now() - t;
      predictor.setEmbedding(embedding);
      return ms;
    },
    async decoder(n: number): Promise<number[]> {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const p = predictor.predict(prompt);
        await p.lowResLogits.data();
        out.push(performance.now() - t);
        disposePrediction(p);
      }
      return out;
    },
  };
  await ours.decoder(3);
  await official.run('decoder 3');

  console.log(
    `ours: backend ${backend}, 1 thread; official: ${header}; ${os.cpus().length} CPUs, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `round  first     encoder ours / official (ms)   decoder median ours / official (ms, ${decoderCalls} calls)`,
  );
  const enc = { ours: [] as number[], official: [] as number[] };
  const dec = { ours: [] as number[], official: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const oursFirst = r % 2 === 0;
    const side = async (which: 'ours' | 'official') => {
      if (which === 'ours') {
        enc.ours.push(await ours.encoder());
        dec.ours.push(median(await ours.decoder(decoderCalls)));
      } else {
        enc.official.push((await official.run('encoder'))[0]);
        dec.official.push(median(await official.run(`decoder ${decoderCalls}`)));
      }
    };
    for (const which of oursFirst ? (['ours', 'official'] as const) : (['official', 'ours'] as const))
      await side(which);
    console.log(
      `${String(r + 1).padStart(5)}  ${(oursFirst ? 'ours' : 'official').padEnd(9)} ${enc.ours[r].toFixed(0).padStart(12)} / ${enc.official[r].toFixed(0).padEnd(16)}` +
        `${dec.ours[r].toFixed(1).padStart(12)} / ${dec.official[r].toFixed(1)}`,
    );
  }
  official.close();
  const summary = (name: string, xs: { ours: number[]; official: number[] }) => {
    const wins = xs.ours.filter((v, i) => v < xs.official[i]).length;
    const ratio = median(xs.official) / median(xs.ours);
    console.log(
      `${name}: median ours ${median(xs.ours).toFixed(1)} ms, official ${median(xs.official).toFixed(1)} ms; ` +
        `ours ${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : `${(1 / ratio).toFixed(2)}x slower`}; ours faster in ${wins} of ${xs.ours.length} rounds`,
    );
  };
  summary('encoder', enc);
  summary('decoder', dec);
  embedding.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
