/**
 * The process's own peak resident set size, in bytes. On Linux getrusage's maxRSS survives exec, so
 * a process that a large parent spawned reports at least the parent's size at the fork; the VmHWM
 * line of /proc/self/status is the peak of the memory this process has had since it started.
 * Elsewhere maxRSS is the best there is.
 */
import * as fs from 'fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no procfs: not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
