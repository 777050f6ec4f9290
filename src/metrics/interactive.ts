/**
 * Metrics of interactive segmentation over a click sequence. An episode's IoU curve holds the IoU
 * after each click: `curve[k - 1]` is the IoU after k clicks.
 */

function checkCurve(curve: readonly number[], where: string): void {
  if (!Array.isArray(curve) && !ArrayBuffer.isView(curve)) throw new Error(`${where}: expected an array of IoUs`);
  if (curve.length === 0) throw new Error(`${where}: the IoU curve is empty (no clicks)`);
}

/**
 * IoU after k clicks (k >= 1). An episode that stopped before k clicks keeps its last mask, so its
 * last IoU counts (the same convention as averaging mIoU@k over episodes of different lengths).
 */
export function iouAtClick(curve: readonly number[], k: number): number {
  checkCurve(curve, 'iouAtClick');
  if (!Number.isInteger(k) || k < 1) throw new Error(`iouAtClick: k must be an integer >= 1, got ${k}`);
  return curve[Math.min(k, curve.length) - 1];
}

/**
 * Number of clicks to reach `threshold` IoU (NoC@85 with 0.85): the first k <= maxClicks with
 * IoU >= threshold; `maxClicks` (20 by default) when it is never reached within that budget, the
 * convention of the interactive segmentation benchmarks (e.g. RITM's evaluation).
 */
export function clicksToReach(curve: readonly number[], threshold: number, maxClicks = 20): number {
  checkCurve(curve, 'clicksToReach');
  const n = Math.min(curve.length, maxClicks);
  for (let k = 1; k <= n; k++) if (curve[k - 1] >= threshold) return k;
  return maxClicks;
}

/** Whether `threshold` was never reached within `maxClicks` (counted as NoF, "number of failures"). */
export function failedToReach(curve: readonly number[], threshold: number, maxClicks = 20): boolean {
  checkCurve(curve, 'failedToReach');
  const n = Math.min(curve.length, maxClicks);
  for (let k = 1; k <= n; k++) if (curve[k - 1] >= threshold) return false;
  return true;
}

export interface ClickMetricsOptions {
  /** Click counts k reported as `iou@k`. Default [1, 3, 5, 10, 15]. */
  ks?: readonly number[];
  /** IoU thresholds reported as `noc@<100 t>` and `nof@<100 t>`. Default [0.85, 0.9]. */
  thresholds?: readonly number[];
  /** Click budget for NoC. Default 20. */
  maxClicks?: number;
}

/**
 * One episode's click metrics as a flat record: `iou@k` for each k, `noc@85`, `noc@90`, and
 * `nof@85`, `nof@90` (1 when the threshold was never reached, else 0). Averaging these records over
 * episodes (`meanMetrics`) gives mIoU@k, mean NoC and the failure rate.
 */
export function clickMetrics(curve: readonly number[], options: ClickMetricsOptions = {}): Record<string, number> {
  const ks = options.ks ?? [1, 3, 5, 10, 15];
  const thresholds = options.thresholds ?? [0.85, 0.9];
  const maxClicks = options.maxClicks ?? 20;
  const out: Record<string, number> = {};
  for (const k of ks) out[`iou@${k}`] = iouAtClick(curve, k);
  for (const t of thresholds) {
    const name = Math.round(t * 100);
    out[`noc@${name}`] = clicksToReach(curve, t, maxClicks);
    out[`nof@${name}`] = failedToReach(curve, t, maxClicks) ? 1 : 0;
  }
  return out;
}
