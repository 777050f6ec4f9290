/**
 * The official SAM code as a side of an interleaved benchmark: a long-lived Python process running
 * scripts/reference/bench_official_sam.py --serve, which answers 'encoder' and 'decoder N' with
 * times in ms. It needs torch, torchvision and a checkout of facebookresearch/segment-anything.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import type { Side } from './interleaved';

const SCRIPT = path.join(__dirname, '..', 'reference', 'bench_official_sam.py');

/** Why `python` cannot run the official code, or null when it can. */
function pythonUnavailable(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' });
  if (probe.error) return `${python} did not start (${probe.error.message})`;
  if (probe.status !== 0)
    return `${python} lacks torch, torchvision or numpy (${probe.stderr.trim().split('\n').pop() ?? ''})`;
  return null;
}

/**
 * The first of `candidates` (e.g. python3 on the PATH, then the system's, which is where Debian's
 * python3-torch goes) that can run the official code; else the first with why it cannot.
 */
export function findPython(candidates: readonly string[]): { python: string; unavailable: string | null } {
  const reasons = candidates.map((python) => ({ python, unavailable: pythonUnavailable(python) }));
  return reasons.find((r) => r.unavailable === null) ?? reasons[0];
}

/** Why the official code cannot run here with `python`, or null when it can. */
export function officialUnavailable(python: string, samRepo: string | null): string | null {
  if (!samRepo) return 'no segment-anything checkout given (--sam-repo)';
  if (!fs.existsSync(path.join(samRepo, 'segment_anything', '__init__.py')))
    return `${samRepo} is not a segment-anything checkout (no segment_anything/__init__.py)`;
  return pythonUnavailable(python);
}

export class OfficialProcess implements Side {
  readonly id: string;
  private torchVersion = '';
  private readonly lines: AsyncIterableIterator<string>;
  private readonly child;
  private stderrTail = '';

  constructor(
    python: string,
    samRepo: string,
    fixture: string,
    readonly threads: number,
    id = 'torch',
  ) {
    this.id = id;
    const args = [SCRIPT, '--sam-repo', samRepo, '--fixture', fixture, '--threads', String(threads), '--serve'];
    this.child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    this.lines = readline.createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  get label(): string {
    return `official PyTorch${this.torchVersion} (${this.threads} thread${this.threads > 1 ? 's' : ''})`;
  }

  /** Waits for the model to load; returns its header line (torch version, threads, image size). */
  async ready(): Promise<string> {
    const header = await this.next();
    const version = /^torch (\S+?),/.exec(header)?.[1];
    this.torchVersion = version ? ` ${version}` : '';
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

  async encoder(): Promise<number> {
    return (await this.run('encoder'))[0];
  }

  decoder(calls: number): Promise<number[]> {
    return this.run(`decoder ${calls}`);
  }

  private async next(): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done) {
      const last = this.stderrTail.trim().split('\n').pop();
      throw new Error(`official process ended early${last ? `: ${last}` : ''}`);
    }
    return value;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end('quit\n');
    await exited;
  }
}
