/**
 * `alignsam train` killed with SIGKILL right after a checkpoint landed, then `--resume`d, ends
 * where the same run trained straight through ends: the same policy, optimizer and SRM weights,
 * byte for byte, and the same metrics.jsonl rows but for wall-clock fields. The checkpoints fall in
 * the middle of episodes (horizon 4, rollouts of 3 steps), so the envs' in-flight episodes, their
 * sampling RNGs, the agent's and the SRM's RNGs, the SRM's replay and the episode statistics must
 * all come back. Every run is a child process of the real command line.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readMetrics, type MetricsRecord } from '../../src/io/metrics-log';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'alignsam.js');
const TINY_WEIGHTS = path.resolve(ROOT, '../shared/fixtures/sam/tiny/weights.safetensors');
const TOTAL = 24;

function writeConfig(dir: string, name: string, algo: 'ppo' | 'dqn'): string {
  const file = path.join(dir, `${name}.yaml`);
  const lines = [
    `sam: { checkpoint: ${JSON.stringify(TINY_WEIGHTS)} }`,
    'data: { synthetic: { length: 12, eval_length: 4, image_size: 64 } }',
    'env: { grid_size: 4, horizon: 4, label_source: recalibration, observe_labeler: true, num_envs: 2, embedding_cache: { dir: null } }',
    'srm: { enabled: true, q: 1, pretrain: { images: 4, updates: 3, batch_size: 2, cache_dir: null } }',
    `agent: { algo: ${algo}, ppo: { n_steps: 3, batch_size: 6, n_epochs: 2 }, dqn: { buffer_size: 64, learning_starts: 4, train_freq: 3, batch_size: 4, target_update_interval: 12, log_interval: 2 } }`,
    `train: { total_timesteps: ${TOTAL}, checkpoint_every: 6, eval_every: 12, eval_episodes: 2, progress: false }`,
    'eval: { episodes: 2, pictures: 0, baselines: [], clicks: [1, 4] }',
    `run: { name: ${name}, dir: ${JSON.stringify(path.join(dir, 'runs'))} }`,
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args, '--backend', 'wasm', '--no-progress'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += String(b)));
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

async function runToEnd(args: string[]): Promise<Exit> {
  const r = await start(args).done;
  if (r.code !== 0) throw new Error(`alignsam ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r;
}

/** Start a run and SIGKILL it as soon as its first checkpoint is complete on disk. */
async function runAndKill(args: string[], checkpoints: string): Promise<void> {
  const { child, done } = start(args);
  const first = path.join(checkpoints, 'model_6_steps');
  const landed = () =>
    fs.existsSync(path.join(first, 'agent.json')) && fs.existsSync(path.join(first, 'srm', 'srm.json'));
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited && !landed()) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  const r = await done;
  if (r.signal !== 'SIGKILL') throw new Error(`the run ended before it could be killed (exit ${r.code})\n${r.stderr}`);
}

/** Metrics rows without what measures the clock. */
function rowsWithoutTime(file: string): MetricsRecord[] {
  return readMetrics(file).map(
    (r) =>
      Object.fromEntries(
        Object.entries(r).filter(([k]) => k !== 'wall_time' && !/(^|\/)(fps|time_\w+)$/.test(k)),
      ) as MetricsRecord,
  );
}

/** Every file of the final checkpoint that holds numbers (weights, optimizer moments, replay). */
function tensorFiles(checkpoint: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.safetensors')) out.set(path.relative(checkpoint, p), fs.readFileSync(p));
    }
  };
  walk(checkpoint);
  return out;
}

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-resume-exact-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(['ppo', 'dqn'] as const)(
  'alignsam train, kill -9, --resume (%s, SRM labels, observe_labeler)',
  (algo) => {
    it('ends with the straight run weights and metrics', async () => {
      const straight = writeConfig(tmp, `${algo}-straight`, algo);
      const killed = writeConfig(tmp, `${algo}-killed`, algo);
      const straightRoot = path.join(tmp, 'runs', `${algo}-straight`);
      const killedRoot = path.join(tmp, 'runs', `${algo}-killed`);

      await Promise.all([
        runToEnd(['train', '--config', straight]),
        runAndKill(['train', '--config', killed], path.join(killedRoot, 'checkpoints')),
      ]);
      const resumed = await runToEnd(['train', '--resume', killedRoot]);
      const from = Number(/from \S+ \((\d+) steps\)/.exec(resumed.stderr)?.[1]);
      expect(from).toBeGreaterThanOrEqual(6);
      expect(from).toBeLessThan(TOTAL);
      expect(resumed.stderr).not.toMatch(/warning/i);

      const final = `checkpoints/model_${TOTAL}_steps`;
      const a = tensorFiles(path.join(straightRoot, final));
      const b = tensorFiles(path.join(killedRoot, final));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      expect([...a.keys()]).toEqual(
        expect.arrayContaining(['policy.safetensors', path.join('srm', 'weights.safetensors')]),
      );
      for (const [name, bytes] of a) expect([name, b.get(name)!.equals(bytes)]).toEqual([name, true]);
      expect(rowsWithoutTime(path.join(killedRoot, 'metrics.jsonl'))).toEqual(
        rowsWithoutTime(path.join(straightRoot, 'metrics.jsonl')),
      );
    });
  },
);
