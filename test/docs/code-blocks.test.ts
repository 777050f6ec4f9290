/**
 * Every fenced code block in README.md and docs/*.md runs as written (docs/results.md is generated
 * and holds no code).
 *
 * - ```ts: written to a temp file and run with ts-node (transpile-only) from the repository root;
 *   the temp folder links `src` and `node_modules`, so `import ... from './src'` resolves as it
 *   does in a file at the root.
 * - ```bash: run with `bash -e` from the repository root.
 * - ```yaml: config snippets, validated together by `alignsam config --check`.
 * - ```<lang> no-run: not run (installs, training, benchmarks, builds that need clang or a GPU);
 *   each such block must be listed in SKIPPED below, word for word, so a skip is always a choice.
 * Any other info string fails the test.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

interface Block {
  file: string;
  line: number;
  lang: string;
  flags: string[];
  code: string;
}

/** Blocks that are knowingly not run: file and exact text. */
const SKIPPED: ReadonlyArray<{ file: string; code: string; why: string }> = [
  { file: 'README.md', why: 'installs packages (network, minutes)', code: 'npm ci' },
  {
    file: 'README.md',
    why: 'trains for minutes and runs the whole suite',
    code: 'npm start   # trains the default agent, then prints the evaluation table\nnpm test    # type-check, lint and format check, then the test suite',
  },
  {
    file: 'README.md',
    why: 'trains an agent (minutes); the later lines need its run folder',
    code: [
      'npx alignsam train --config configs/synthetic-ppo.yaml --set train.total_timesteps=6000',
      'npx alignsam eval --run runs/<name> --overwrite -n 200',
      'npx alignsam export --run runs/<name> --out exports/synthetic',
      'npx alignsam predict --export exports/synthetic --image scene.png --out predictions/',
    ].join('\n'),
  },
  { file: 'docs/sam-on-wasm.md', why: 'installs a package (network)', code: 'npm install @tensorflow/tfjs-node-gpu' },
  {
    file: 'docs/sam-on-wasm.md',
    why: 'needs clang with the wasm32 target',
    code: 'bash scripts/build-simd-kernels.sh',
  },
  {
    file: 'docs/sam-on-wasm.md',
    why: 'trains the micro-SAM on a CUDA machine with PyTorch',
    code: 'bash scripts/micro-sam-torch/train-on-gpu.sh   # dump scenes (Node), train (PyTorch), adopt and evaluate (tfjs)',
  },
  {
    file: 'docs/sam-on-wasm.md',
    why: 'fine-tunes the micro-SAM with PyTorch for 25 minutes and rewrites models/micro-sam',
    code: 'bash scripts/micro-sam-torch/finetune-on-cpu.sh   # dump scenes, fine-tune (PyTorch, ~25 min on 2 cores), adopt and evaluate (tfjs)',
  },
  {
    file: 'docs/performance.md',
    why: 'benchmarks run for minutes',
    code: 'npm run bench:sam\nnpm run bench:env\nnpm run bench:agent\nnpx alignsam bench --only sam,env',
  },
  {
    file: 'docs/performance.md',
    why: 'needs PyTorch and a segment-anything checkout',
    code: [
      'python3 scripts/reference/bench_official_sam.py --sam-repo <segment-anything checkout> --fixture ../shared/fixtures/sam/vitb2',
      'npm run bench:paired -- --sam-repo <segment-anything checkout> --rounds 10',
    ].join('\n'),
  },
  {
    file: 'docs/performance.md',
    why: 'benchmarks run for minutes and rewrite the page',
    code: [
      'npm run bench:perf -- --write                                   # every part: presets, peers, kernels, agent',
      'npm run bench:perf -- --only vit_b,micro --write                # some parts',
      'npm run bench:perf -- --only peers --sides wasm,ort-1,ort-all   # some sides, printed and not stored',
      'npm run bench:perf -- --render                                  # this page from the stored data',
    ].join('\n'),
  },
  {
    file: 'docs/performance.md',
    why: 'installs packages and clones a repository (network), then benchmarks for minutes',
    code: [
      'apt-get install -y python3-torch python3-torchvision python3-onnx',
      'git clone https://github.com/facebookresearch/segment-anything .cache/segment-anything',
      'npm run bench:perf -- --only peers --write',
    ].join('\n'),
  },
  {
    file: 'docs/srm.md',
    why: 'trains three agents (about 30 minutes on 2 cores) and rewrites a results page',
    code: [
      'npx alignsam ablate --config configs/synthetic-named-ppo.yaml --seeds 3 --variants full',
      'npx alignsam results --ablation runs/ablate-synthetic-named-ppo/ablation.json --page docs/results-named.md --no-headline',
    ].join('\n'),
  },
];

function docFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md') && f !== 'results.md')
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

function extractBlocks(file: string): Block[] {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [lang = '', ...flags] = open[1].trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: the code block is never closed`);
    blocks.push({ file, line: start + 1, lang, flags, code: body.join('\n') });
  }
  return blocks;
}

const blocks = docFiles().flatMap(extractBlocks);
const label = (b: Block) => `${b.file}:${b.line} (${[b.lang, ...b.flags].join(' ')})`;
const skipped = blocks.filter((b) => b.flags.includes('no-run'));
const runnable = blocks.filter((b) => !b.flags.includes('no-run'));

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-doc-blocks-'));
  for (const link of ['src', 'node_modules']) fs.symlinkSync(path.join(root, link), path.join(tmp, link), 'dir');
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], timeout: number): void {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout, env: process.env });
  if (r.status !== 0)
    throw new Error(
      `exit ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
}

test('the docs hold code blocks, each in a known language', () => {
  expect(blocks.filter((b) => b.lang === 'ts').length).toBeGreaterThan(0);
  for (const b of blocks)
    if (!['ts', 'bash', 'yaml'].includes(b.lang))
      throw new Error(`${label(b)}: use ts, bash or yaml (with no-run to skip it knowingly)`);
  for (const b of blocks)
    for (const f of b.flags) if (f !== 'no-run') throw new Error(`${label(b)}: unknown flag '${f}'`);
});

test('every skipped block is one of the known skips, and every known skip is still there', () => {
  for (const b of skipped) {
    if (!SKIPPED.some((s) => s.file === b.file && s.code === b.code))
      throw new Error(`${label(b)} is marked no-run but not listed in SKIPPED:\n${b.code}`);
  }
  for (const s of SKIPPED) {
    if (!skipped.some((b) => s.file === b.file && s.code === b.code))
      throw new Error(`SKIPPED lists a block that ${s.file} no longer holds (marked no-run):\n${s.code}`);
  }
});

const tsBlocks = runnable.filter((b) => b.lang === 'ts');
const bashBlocks = runnable.filter((b) => b.lang === 'bash');
const yamlBlocks = runnable.filter((b) => b.lang === 'yaml');

test.each(tsBlocks.map((b) => [label(b), b] as const))(
  '%s runs',
  (_name, b) => {
    const file = path.join(tmp, `block-${path.basename(b.file, '.md')}-${b.line}.ts`);
    fs.writeFileSync(file, b.code + '\n');
    run(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), '--transpile-only', '--project', path.join(root, 'tsconfig.json'), file],
      90_000,
    );
  },
  100_000,
);

test.each(bashBlocks.map((b) => [label(b), b] as const))(
  '%s runs',
  (_name, b) => {
    run('bash', ['-e', '-c', b.code], 60_000);
  },
  70_000,
);

if (yamlBlocks.length > 0) {
  test('the yaml blocks are valid configs', () => {
    const files = yamlBlocks.map((b) => {
      const file = path.join(tmp, `block-${path.basename(b.file, '.md')}-${b.line}.yaml`);
      fs.writeFileSync(file, b.code + '\n');
      return file;
    });
    run(process.execPath, [path.join(root, 'bin/alignsam.js'), 'config', '--check', ...files], 60_000);
  }, 70_000);
}
