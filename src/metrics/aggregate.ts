/**
 * Mean of per-episode metric records, key by key. Every record must have the same keys (a missing
 * key would silently bias a mean); non-finite values are an error naming the episode and key.
 */
export function meanMetrics(records: readonly Record<string, number>[]): Record<string, number> {
  if (records.length === 0) throw new Error('meanMetrics: no episodes to average');
  const keys = Object.keys(records[0]);
  const sums: Record<string, number> = {};
  for (const k of keys) sums[k] = 0;
  records.forEach((rec, e) => {
    const extra = Object.keys(rec).filter((k) => !(k in sums));
    if (extra.length > 0 || Object.keys(rec).length !== keys.length) {
      throw new Error(
        `meanMetrics: episode ${e} has keys ${Object.keys(rec).join(', ')}; episode 0 has ${keys.join(', ')}`,
      );
    }
    for (const k of keys) {
      const v = rec[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`meanMetrics: episode ${e} has ${k} = ${v}`);
      sums[k] += v;
    }
  });
  for (const k of keys) sums[k] /= records.length;
  return sums;
}
