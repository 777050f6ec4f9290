import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readMetrics, series } from '../../src/io/metrics-log';
import { RunLogger } from '../../src/runs/run-logger';
import { readEventFile } from '../../src/runs/tfevents';
import { checkpointDirFor, latestCheckpoint, runPaths } from '../../src/runs/run-dir';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-run-'));
}

describe('run logger', () => {
  it('appends each record to metrics.jsonl at once, NaN as null', () => {
    const dir = tmpDir();
    const log = new RunLogger(dir);
    log.log(8, { 'rollout/ep_rew_mean': 1.5, 'train/loss': NaN });
    // Flushed per line: readable before close.
    expect(readMetrics(path.join(dir, 'metrics.jsonl'))).toEqual([
      expect.objectContaining({ step: 8, 'rollout/ep_rew_mean': 1.5, 'train/loss': null }),
    ]);
    log.close();
  });

  it('resumes from a checkpoint step without duplicated records, in metrics.jsonl and TensorBoard files', () => {
    const dir = tmpDir();
    let t = 1000;
    const now = () => t++;
    const first = new RunLogger(dir, { now });
    for (const step of [100, 200, 300, 400, 500]) first.log(step, { r: step });
    first.close();
    // Crash mid-line after step 500.
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step": 600, "r"');

    // The latest checkpoint is at step 300: records 400 and 500 are replayed by the resumed run.
    const resumed = new RunLogger(dir, { resumeFromStep: 300, now });
    for (const step of [400, 500, 600]) resumed.log(step, { r: step + 1 });
    resumed.close();

    // Records 100-300 from the first run, 400-600 from the resumed one, each step once.
    const expected = [
      [100, 100],
      [200, 200],
      [300, 300],
      [400, 401],
      [500, 501],
      [600, 601],
    ];
    const records = readMetrics(path.join(dir, 'metrics.jsonl'));
    expect(series(records, 'r')).toEqual(expected);
    const events = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('events.out.tfevents.'))
      .sort()
      .flatMap((f) => readEventFile(path.join(dir, f)))
      .filter((e) => e.fileVersion === undefined);
    expect(events.map((e) => [e.step, e.scalars.r])).toEqual(expected);
  });

  it('a bad line that is not the last is an error naming the file and line', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, '{"step": 1}\nnot json\n{"step": 2}\n');
    expect(() => readMetrics(file)).toThrow(`${file}:2: not a JSON line`);
  });
});

describe('checkpoints', () => {
  it('finds the latest complete checkpoint by step, ignoring unfinished ones', () => {
    const paths = runPaths(tmpDir());
    for (const step of [500, 1500, 1000]) {
      fs.mkdirSync(checkpointDirFor(paths, step), { recursive: true });
      fs.writeFileSync(path.join(checkpointDirFor(paths, step), 'agent.json'), '{}');
    }
    // A folder without agent.json (an interrupted save) and the best model do not count.
    fs.mkdirSync(checkpointDirFor(paths, 2000), { recursive: true });
    fs.mkdirSync(paths.best, { recursive: true });
    expect(latestCheckpoint(paths.checkpoints)).toEqual({ dir: checkpointDirFor(paths, 1500), step: 1500 });
  });
});
