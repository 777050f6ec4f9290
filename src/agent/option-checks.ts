/**
 * Range checks for agent options. The ranges are the config schema's (agent.ppo.*, agent.dqn.*),
 * so an agent built in code refuses what a config file would: errors name the option as
 * `<algo> option '<key>'`.
 */
import type { Schedule } from './schedules';

export interface OptionRange {
  min?: number;
  max?: number;
  /** min itself is refused. */
  minExclusive?: boolean;
  integer?: boolean;
}

function bounds(r: OptionRange): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${r.minExclusive ? '>' : '>='} ${r.min}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return parts.join(' and ');
}

function describeRange(r: OptionRange): string {
  const kind = r.integer ? 'an integer' : 'a finite number';
  const b = bounds(r);
  return b ? `${kind} ${b}` : kind;
}

function inRange(v: unknown, r: OptionRange): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (r.integer && !Number.isInteger(v)) return false;
  if (r.min !== undefined && (r.minExclusive ? !(v > r.min) : !(v >= r.min))) return false;
  return r.max === undefined || v <= r.max;
}

function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
}

export function checkNumber(algo: string, key: string, v: unknown, r: OptionRange): void {
  if (!inRange(v, r)) throw new Error(`${algo} option '${key}' must be ${describeRange(r)}, got ${show(v)}`);
}

export function checkNullableNumber(algo: string, key: string, v: unknown, r: OptionRange): void {
  if (v !== null && !inRange(v, r)) throw new Error(`${algo} option '${key}' must be ${describeRange(r)} or null, got ${show(v)}`);
}

export function checkBoolean(algo: string, key: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new Error(`${algo} option '${key}' must be true or false, got ${show(v)}`);
}

/**
 * A constant within `r`, or {type: 'linear', start, end} with start within `r` and end within `r`
 * with 0 allowed (annealing to zero is the usual end).
 */
export function checkSchedule(algo: string, key: string, s: Schedule, r: OptionRange): void {
  if (typeof s === 'number') {
    checkNumber(algo, key, s, r);
    return;
  }
  const endRange: OptionRange = { ...r, min: 0, minExclusive: false };
  if (s === null || typeof s !== 'object' || s.type !== 'linear' || !inRange(s.start, r) || !inRange(s.end, endRange)) {
    throw new Error(
      `${algo} option '${key}' must be ${describeRange(r)} or {type: 'linear', start, end} with start ${bounds(r) || 'finite'} and end ${bounds(endRange)}, got ${show(s)}`,
    );
  }
}
