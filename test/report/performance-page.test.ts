/**
 * The performance tables: rendered from performance.json alone, the committed page current with the
 * committed data, and a bad data file refused with the field named. Nothing here measures.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  emptyPerformanceData,
  parsePerformanceData,
  readPerformanceData,
  type MeasuredRun,
  type PerformanceData,
  type PresetRow,
} from '../../src/report/performance-data';
import {
  AGENT_BEGIN,
  AGENT_END,
  agentMarkdown,
  KERNELS_BEGIN,
  KERNELS_END,
  kernelsMarkdown,
  PEERS_BEGIN,
  PEERS_END,
  peersMarkdown,
  PRESETS_BEGIN,
  PRESETS_END,
  presetsMarkdown,
  withPerformanceTables,
} from '../../src/report/performance-page';

const ROOT = path.join(__dirname, '..', '..');

const run: MeasuredRun = {
  date: '2026-12-07T10:00:00.000Z',
  commit: 'abc1234',
  machine: '2 x Test CPU, 8 GiB, Node v20.0.0',
  cores: 2,
  backend: 'wasm',
  loadBefore: 0.25,
  loadAfter: 1.5,
  wallSeconds: 42,
  command: 'npm run bench:perf -- --only vit_b',
};

const vitB: PresetRow = {
  preset: 'vit_b',
  run,
  weights: 'random',
  simdKernels: 'relaxed',
  parameters: 93_735_472,
  imageSize: [640, 480],
  loadSeconds: 2.5,
  peakRssBytes: 1.5 * 2 ** 30,
  wasmHeapBytes: 600 * 2 ** 20,
  encoderOneWorker: { workers: 1, images: 2, secondsPerImage: 18 },
  encoderAllWorkers: { workers: 2, images: 4, secondsPerImage: 9.5 },
  decoderMs: 45.25,
  decoderCalls: 10,
  error: null,
};

const vitH: PresetRow = {
  ...vitB,
  preset: 'vit_h',
  run: { ...run, command: 'npm run bench:perf -- --only vit_h' },
  parameters: 636_000_000,
  loadSeconds: 23,
  peakRssBytes: null,
  wasmHeapBytes: null,
  encoderOneWorker: null,
  encoderAllWorkers: null,
  decoderMs: null,
  error: 'RuntimeError: memory access out of bounds',
};

const sample = (): PerformanceData => ({
  ...emptyPerformanceData(),
  presets: [vitB, vitH],
  peers: {
    run: { ...run, command: 'npm run bench:perf -- --only peers' },
    fixture: 'vitb2',
    imageSize: [320, 240],
    encoderGflop: 90,
    rounds: 3,
    decoderCalls: 10,
    sides: [
      {
        id: 'wasm',
        label: 'ours 1',
        threads: 1,
        status: 'ok',
        reason: null,
        encoderMs: [3000, 3300, 3600],
        decoderMs: [40, 50, 60],
      },
      {
        id: 'wasm-pool',
        label: 'ours 2',
        threads: 2,
        status: 'ok',
        reason: null,
        encoderMs: [1600, 1800, 1500],
        decoderMs: [],
      },
      {
        id: 'ort-1',
        label: 'ort 1',
        threads: 1,
        status: 'ok',
        reason: null,
        encoderMs: [1000, 1100, 1200],
        decoderMs: [45, 48, 55],
      },
      {
        id: 'ort-all',
        label: 'ort 2',
        threads: 2,
        status: 'ok',
        reason: null,
        encoderMs: [600, 500, 700],
        decoderMs: [20, 22, 21],
      },
      {
        id: 'torch-1',
        label: 'torch 1',
        threads: 1,
        status: 'skipped',
        reason: 'python3 lacks torch',
        encoderMs: [],
        decoderMs: [],
      },
    ],
  },
});

const withKernels = (): PerformanceData => ({
  ...sample(),
  kernels: {
    run: { ...run, command: 'npm run bench:perf -- --only kernels' },
    build: 'relaxed',
    rounds: 3,
    peakGflops: [48, 50, 52],
    kernels: [
      { name: 'MLP, first layer', shape: '[4096, 768] @ [768, 3072]', gflop: 20, ms: [500, 400, 800] },
      { name: 'global attention', shape: '1 x 64 x 64 tokens', gflop: 50, ms: [2000, 2500, 2100] },
    ],
  },
});

const withAgent = (): PerformanceData => ({
  ...withKernels(),
  agent: {
    run: { ...run, command: 'npm run bench:perf -- --only agent' },
    envs: 8,
    epochs: 20,
    embedding: [256, 64, 64],
    grid: 10,
    horizon: 15,
    ppoParameters: 1_234_567,
    ppoUpdateSamplesPerSecond: 123.456,
    ppoRolloutMsPerVectorStep: 12.34,
    ppoPeakRssBytes: 1.25 * 2 ** 30,
    dqnGradientStepsPerSecond: null,
  },
});

describe('the performance tables', () => {
  it('give every preset a row, with its numbers, how it was measured and why it stopped', () => {
    const md = presetsMarkdown(sample());
    expect(md.startsWith(PRESETS_BEGIN)).toBe(true);
    expect(md.endsWith(PRESETS_END)).toBe(true);
    expect(md).toContain(
      '| vit_b (random weights) | 93.7 M | 2.50 s | 1.50 GiB | 600 MiB | 18.0 s (1 worker, 2 images) | 9.50 s (2 workers, 4 images) | 45.3 ms |',
    );
    expect(md).toContain('| vit_l (not measured) | - | - | - | - | - | - | - |');
    expect(md).toContain('| vit_h (random weights), failed | 636 M | 23.0 s | - | - | - | - | - |');
    expect(md).toContain(
      '- vit_b: speed on 640 x 480 images, decoder median of 10 calls, SIMD kernels relaxed; 2026-12-07 at commit abc1234 on 2 x Test CPU, 8 GiB, Node v20.0.0 ' +
        '(2 cores usable, backend wasm), load average 0.25 before and 1.50 after, 42.0 s wall: `npm run bench:perf -- --only vit_b`.',
    );
    expect(md).toMatch(/- vit_h: .* It stopped with: RuntimeError: memory access out of bounds/);
    expect(md).toContain('- vit_l, micro: not measured yet (`npm run bench:perf -- --only vit_l,micro --write`).');
    // Rows in the presets' order whatever the data's order.
    const reordered = presetsMarkdown({ ...sample(), presets: [vitH, vitB] });
    expect(reordered.indexOf('| vit_b')).toBeLessThan(reordered.indexOf('| vit_h'));
  });

  it('compare the sides on medians, against the peer at its faster thread count, and say what was skipped', () => {
    const md = peersMarkdown(sample());
    expect(md).toContain('a 320 x 240 image, 3 rounds;');
    expect(md).toContain('| ours 1 | 1 | 3.30 (3.00-3.60) | 27.3 | 50.0 (40.0-60.0) |');
    expect(md).toContain('| ours 2 | 2 | 1.60 (1.50-1.80) | 56.3 | - |');
    expect(md).toContain('| torch 1 | 1 | skipped: python3 lacks torch | - | - |');
    // ours 3.30 s against ort 1.10 s; decoder 50 against 48 ms; ours faster in no round and in 1 of 3.
    expect(md).toContain('| encoder, 1 thread | 3.30 s | ort 1: 1.10 s | 3.00x slower | 0 of 3 |');
    expect(md).toContain('| decoder, 1 thread | 50.0 ms | ort 1: 48.0 ms | 1.04x slower | 1 of 3 |');
    // ort's faster side is its 2-thread one (0.60 s).
    expect(md).toContain(
      "| encoder, 2 workers against the peer's faster thread count | 1.60 s | ort 2: 0.60 s | 2.67x slower | 0 of 3 |",
    );
    // No comparison against a skipped side.
    expect(md).not.toMatch(/\| torch 1: /);
    expect(peersMarkdown(emptyPerformanceData())).toBe(
      `${PEERS_BEGIN}\nNot measured yet (\`npm run bench:perf -- --only peers\`).\n${PEERS_END}`,
    );
  });

  it("put each kernel's rate beside the probe's, and bound the peers' encoder by that peak on every core", () => {
    const md = kernelsMarkdown(withKernels());
    expect(md.startsWith(KERNELS_BEGIN)).toBe(true);
    expect(md.endsWith(KERNELS_END)).toBe(true);
    expect(md).toContain('The relaxed SIMD build on one thread, 3 rounds,');
    expect(md).toContain(
      '| multiply-add probe (the peak) | 12 independent chains, no memory | - | - | 50.0 (48.0-52.0) | 100% |',
    );
    // Medians: 20 GFLOP in 500 ms is 40 GFLOP/s, 80% of 50; 50 GFLOP in 2100 ms is 23.8, 48%.
    expect(md).toContain('| MLP, first layer | [4096, 768] @ [768, 3072] | 20.0 | 500 (400-800) | 40.0 | 80% |');
    expect(md).toContain('| global attention | 1 x 64 x 64 tokens | 50.0 | 2100 (2000-2500) | 23.8 | 48% |');
    // The peers' 90 GFLOP at 50 GFLOP/s: 1.8 s on one core, 0.9 s on the part's 2 cores.
    expect(md).toContain(
      "the `vitb2` encoder's 90.0 GFLOP per image (the table above) take at least 1.80 s on one core and 0.90 s on 2,",
    );
    expect(kernelsMarkdown({ ...withKernels(), peers: null })).not.toContain('take at least');
    expect(kernelsMarkdown(emptyPerformanceData())).toBe(
      `${KERNELS_BEGIN}\nNot measured yet (\`npm run bench:perf -- --only kernels\`).\n${KERNELS_END}`,
    );
  });

  it("give the agents' rates and PPO's peak memory, with how they were measured", () => {
    const md = agentMarkdown(withAgent());
    expect(md.startsWith(AGENT_BEGIN)).toBe(true);
    expect(md.endsWith(AGENT_END)).toBe(true);
    expect(md).toContain('8 envs, observations of 256 x 64 x 64 embeddings, a 10 x 10 grid, horizon 15;');
    expect(md).toContain('`npm run bench:perf -- --only agent`');
    expect(md).toContain('| PPO policy parameters | 1.23 M |');
    expect(md).toContain('| PPO update, samples/s (forward, backward, Adam) | 123.5 |');
    expect(md).toContain('| PPO peak RSS (the process) | 1.25 GiB |');
    expect(md).toContain('| DQN gradient steps/s (batch 32, double Q) | - |');
    expect(agentMarkdown(emptyPerformanceData())).toContain('Not measured yet (`npm run bench:perf -- --only agent`).');
  });

  it('rewrite every block of a page and keep the prose around them', () => {
    const page =
      `# P\n\nintro\n\n${PRESETS_BEGIN}\nold\n${PRESETS_END}\n\nmiddle\n\n${PEERS_BEGIN}\nold\n${PEERS_END}\n\n` +
      `more\n\n${KERNELS_BEGIN}\nold\n${KERNELS_END}\n\n${AGENT_BEGIN}\n${AGENT_END}\nend\n`;
    const data = withAgent();
    expect(withPerformanceTables(page, data, 'p.md')).toBe(
      `# P\n\nintro\n\n${presetsMarkdown(data)}\n\nmiddle\n\n${peersMarkdown(data)}\n\nmore\n\n` +
        `${kernelsMarkdown(data)}\n\n${agentMarkdown(data)}\nend\n`,
    );
    expect(() => withPerformanceTables('# P\n', data, 'p.md')).toThrow(
      /p\.md: the markers .*presets:begin.* are missing/,
    );
    expect(() => withPerformanceTables(page.slice(0, page.indexOf(KERNELS_BEGIN)), data, 'p.md')).toThrow(
      /p\.md: the markers .*kernels:begin.* are missing/,
    );
  });

  it('docs/performance.md is current with docs/performance/performance.json', () => {
    const data = readPerformanceData(path.join(ROOT, 'docs', 'performance', 'performance.json'));
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'performance.md'), 'utf8');
    expect(withPerformanceTables(page, data, 'docs/performance.md')).toBe(page);
  });
});

describe('the performance data', () => {
  const withPreset = (patch: Record<string, unknown>) => ({ ...sample(), presets: [{ ...vitB, ...patch }] });

  it('is refused with the file and the field named', () => {
    expect(() => parsePerformanceData(withPreset({ loadSeconds: 'fast' }), 'perf.json')).toThrow(
      /^perf\.json: presets\[0\]\.loadSeconds: expected a number >= 0, got "fast"/,
    );
    expect(() => parsePerformanceData(withPreset({ preset: 'vit_x' }), 'perf.json')).toThrow(
      /perf\.json: presets\[0\]\.preset: expected one of vit_b, vit_l, vit_h, micro, got "vit_x"/,
    );
    expect(() => parsePerformanceData({ ...sample(), format: 'other' }, 'perf.json')).toThrow(/perf\.json: format:/);
    expect(() => parsePerformanceData({ ...sample(), presets: [vitB, vitB] }, 'perf.json')).toThrow(
      "perf.json: presets[1].preset: 'vit_b' is listed twice",
    );
    const data = sample();
    data.peers!.sides[0].encoderMs = [3000];
    expect(() => parsePerformanceData(data, 'perf.json')).toThrow(
      'perf.json: peers.sides[0].encoderMs: expected one value per round (3), got 1',
    );
    data.peers!.sides[0] = { ...data.peers!.sides[0], status: 'skipped', reason: null };
    expect(() => parsePerformanceData(data, 'perf.json')).toThrow(
      'perf.json: peers.sides[0].reason: a skipped side says why',
    );
  });

  it('checks the kernels part: one value per round, a known build; a file without the part reads as not measured', () => {
    const data = withKernels();
    data.kernels!.kernels[1].ms = [2000];
    expect(() => parsePerformanceData(data, 'perf.json')).toThrow(
      'perf.json: kernels.kernels[1].ms: expected one value per round (3), got 1',
    );
    expect(() =>
      parsePerformanceData({ ...withKernels(), kernels: { ...withKernels().kernels, peakGflops: [50] } }, 'perf.json'),
    ).toThrow('perf.json: kernels.peakGflops: expected one value per round (3), got 1');
    expect(() =>
      parsePerformanceData({ ...withKernels(), kernels: { ...withKernels().kernels, build: 'avx' } }, 'perf.json'),
    ).toThrow(/perf\.json: kernels\.build: expected one of relaxed, plain/);
    const { kernels: _kernels, agent: _agent, ...older } = sample();
    expect(parsePerformanceData(older, 'perf.json')).toMatchObject({ kernels: null, agent: null });
  });

  it('round-trips through a file, and a file that is not JSON is named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-data-'));
    try {
      const good = path.join(dir, 'good.json');
      fs.writeFileSync(good, JSON.stringify(sample()));
      expect(readPerformanceData(good)).toEqual(sample());
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{"format":');
      expect(() => readPerformanceData(bad)).toThrow(new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')}: not JSON`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
