/**
 * A progress line for jobs counted in items (episodes, images, runs): done/total, rate and ETA.
 * On a terminal it is redrawn in place; into a file or pipe a full line is written at most every
 * `intervalMs` (default 15 s) and at the end, so batch logs stay readable.
 */

/** Seconds as mm:ss or h:mm:ss ('--:--' when unknown). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressLine {
  private start = Date.now();
  private lastLabel = '';
  private lastWrite = 0;
  private open = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly opts: { intervalMs?: number } = {},
  ) {}

  update(label: string, done: number, total: number, unit: string): void {
    const now = Date.now();
    if (label !== this.lastLabel) {
      if (this.open) this.stream.write('\n');
      this.open = false;
      this.start = now;
      this.lastLabel = label;
      this.lastWrite = 0;
    }
    const tty = (this.stream as NodeJS.WriteStream).isTTY === true;
    const final = done >= total;
    if (!final && now - this.lastWrite < (tty ? 200 : (this.opts.intervalMs ?? 15_000))) return;
    this.lastWrite = now;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const text = `${label}: ${done}/${total} ${unit}, ${Number.isFinite(rate) ? rate.toFixed(rate < 10 ? 2 : 1) : '-'} ${unit}/s, ETA ${formatDuration(eta)}`;
    if (tty) {
      this.stream.write(`\r${text.padEnd(72)}`);
      this.open = !final;
      if (final) this.stream.write('\n');
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  end(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}
