/**
 * metrics.jsonl: one JSON object per line, `{"step": <env timesteps>, "time": <s since run start>,
 * "<tag>": <value>, ...}`, appended and written straight to the file line by line (a crash loses
 * at most the line being written). On resume the file is cut back to the checkpoint's step so the
 * curve continues without a duplicated stretch.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface MetricsRecord {
  step: number;
  [tag: string]: number | string | null;
}

/** Records of a metrics file; a torn last line (crash mid-write) is left out, any other bad line is an error. */
export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (last) return;
      throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
    if (rec === null || typeof rec !== 'object' || typeof (rec as MetricsRecord).step !== 'number') {
      throw new Error(`${file}:${i + 1}: a metrics line needs a numeric "step"`);
    }
    out.push(rec as MetricsRecord);
  });
  return out;
}

/** Keep the records at steps <= `step` (file rewritten to a temporary name, then renamed). */
export function truncateMetrics(file: string, step: number): { kept: number; dropped: number } {
  const records = readMetrics(file);
  const kept = records.filter((r) => r.step <= step);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  fs.renameSync(tmp, file);
  return { kept: kept.length, dropped: records.length - kept.length };
}

/** NaN and infinities are not JSON: they become null. */
function clean(record: MetricsRecord): MetricsRecord {
  const out: MetricsRecord = { step: record.step };
  for (const [k, v] of Object.entries(record)) {
    if (k === 'step') continue;
    out[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
  }
  return out;
}

export class MetricsWriter {
  private fd: number | null;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  append(record: MetricsRecord): void {
    if (this.fd === null) throw new Error(`${this.file}: writer is closed`);
    fs.writeSync(this.fd, `${JSON.stringify(clean(record))}\n`);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** The series of one tag: [step, value] pairs in file order, nulls left out. */
export function series(records: readonly MetricsRecord[], tag: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of records) {
    const v = r[tag];
    if (typeof v === 'number' && Number.isFinite(v)) out.push([r.step, v]);
  }
  return out;
}
