/**
 * The report of a run, as PNG files in runs/<name>/report/:
 *   training.png     return, IoU and click-label accuracy (the SRM's, under label source
 *                    'recalibration') over training, from metrics.jsonl
 *   miou-clicks.png  mIoU after k clicks for the agent and each baseline (from the evaluation)
 *   episodes-<policy>.png  pictures of evaluation episodes
 */
import * as fs from 'fs';
import * as path from 'path';
import type { EvaluationReport } from '../eval/evaluate';
import { MetricsRecord, readMetrics, series } from '../runs/metrics-log';
import { Canvas } from './raster';
import { contactSheet, drawEpisode } from './episode-picture';
import { linePlot } from './line-plot';

/** Three panels stacked: return, IoU, label accuracy (training and evaluation curves). */
export function trainingPlot(records: readonly MetricsRecord[], opts: { width?: number; protocol?: string } = {}): Canvas {
  const width = opts.width ?? 640;
  const panels = [
    linePlot({
      title: 'EPISODE RETURN',
      xLabel: 'ENV STEPS',
      yLabel: 'RETURN',
      width,
      height: 300,
      series: [
        { name: 'TRAIN (LAST 100 EPISODES)', points: series(records, 'rollout/ep_rew_mean') },
        { name: 'EVAL', points: series(records, 'eval/mean_return'), markers: true },
      ],
    }),
    linePlot({
      title: 'FINAL IOU',
      xLabel: 'ENV STEPS',
      yLabel: 'IOU',
      width,
      height: 300,
      yRange: [0, 1],
      series: [
        { name: 'TRAIN (LAST 20 EPISODES)', points: series(records, 'rollout/ep_iou_mean') },
        { name: opts.protocol ? `EVAL (${opts.protocol.toUpperCase()} PROTOCOL)` : 'EVAL', points: series(records, 'eval/final_iou'), markers: true },
      ],
    }),
    linePlot({
      title: 'CLICK LABEL ACCURACY (SRM)',
      xLabel: 'ENV STEPS',
      yLabel: 'ACCURACY',
      width,
      height: 300,
      yRange: [0, 1],
      emptyText: 'NO LABEL DATA',
      series: [
        { name: 'TRAIN', points: series(records, 'rollout/label_accuracy') },
        { name: 'EVAL', points: series(records, 'eval/label_accuracy'), markers: true },
      ],
    }),
  ];
  const c = new Canvas(width, panels.reduce((a, p) => a + p.height, 0));
  let y = 0;
  for (const p of panels) {
    c.blit(p.toImage(), 0, y);
    y += p.height;
  }
  return c;
}

/** mIoU after k clicks, one line per policy; the title names the protocol when the reports carry one. */
export function miouClicksPlot(reports: readonly EvaluationReport[], opts: { width?: number; height?: number } = {}): Canvas {
  const protocol = (reports[0] as { protocol?: string } | undefined)?.protocol;
  return linePlot({
    title: protocol ? `MIOU VS CLICKS (${protocol.toUpperCase()} PROTOCOL)` : 'MIOU VS CLICKS',
    xLabel: 'CLICKS',
    yLabel: 'MIOU',
    width: opts.width ?? 640,
    height: opts.height ?? 400,
    yRange: [0, 1],
    series: reports.map((r) => ({
      name: `${r.policy.toUpperCase()} (${r.episodes.length} EP)`,
      points: r.meanIouCurve.map((v, k) => [k + 1, v] as const),
      markers: true,
      dashed: r.policy !== 'agent',
    })),
  });
}

export interface ReportFiles {
  training?: string;
  miouClicks?: string;
  episodes: string[];
}

/** Write the report PNGs of a run folder. */
export async function writeRunReport(runDir: string, reports: readonly EvaluationReport[] = []): Promise<ReportFiles> {
  const out = path.join(runDir, 'report');
  fs.mkdirSync(out, { recursive: true });
  const files: ReportFiles = { episodes: [] };
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  if (fs.existsSync(metricsFile)) {
    files.training = path.join(out, 'training.png');
    await trainingPlot(readMetrics(metricsFile), { protocol: (reports[0] as { protocol?: string } | undefined)?.protocol }).writePng(files.training);
  }
  if (reports.length > 0) {
    files.miouClicks = path.join(out, 'miou-clicks.png');
    await miouClicksPlot(reports).writePng(files.miouClicks);
  }
  for (const r of reports) {
    const pics = r.episodes
      .filter((e) => e.picture)
      .map((e) => drawEpisode(e.picture!, { caption: `${e.targetName ?? e.sampleId}  IOU ${e.finalIou.toFixed(2)}` }));
    if (pics.length === 0) continue;
    const file = path.join(out, `episodes-${r.policy}.png`);
    await contactSheet(pics, `${r.policy.toUpperCase()}: EVALUATION EPISODES`).writePng(file);
    files.episodes.push(file);
  }
  return files;
}
