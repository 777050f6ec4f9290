/**
 * The report of a run, in runs/<name>/report/:
 *   training.png     return, IoU and click-label accuracy (the SRM's, under label source
 *                    'recalibration') over training, from metrics.jsonl
 *   miou-clicks.png  mIoU after k clicks for the agent and each baseline (from the evaluation)
 *   episodes-<policy>.png  pictures of evaluation episodes
 * Each plot's SVG lies beside its PNG (training.svg, miou-clicks.svg).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RgbImage } from '../data/types';
import type { EvaluationReport } from '../eval/evaluate';
import { MetricsRecord, readMetrics, series } from '../io/metrics-log';
import { writePng } from '../data/image-io';
import { contactSheet, drawEpisode } from './episode-picture';
import { legendWidthFor, linePlot, type PlotOptions } from './line-plot';
import { Figure, stackFigures, writeFigure } from './svg';

/** Three panels stacked: return, IoU, label accuracy (training and evaluation curves). */
export function trainingPlot(
  records: readonly MetricsRecord[],
  opts: { width?: number; protocol?: string } = {},
): Figure {
  const width = opts.width ?? 720;
  const panels: PlotOptions[] = [
    {
      title: 'Episode return',
      xLabel: 'env steps',
      yLabel: 'return',
      series: [
        { name: 'train (last 100 episodes)', points: series(records, 'rollout/ep_rew_mean') },
        { name: 'eval', points: series(records, 'eval/mean_return'), markers: true },
      ],
    },
    {
      title: 'Final IoU',
      xLabel: 'env steps',
      yLabel: 'IoU',
      yRange: [0, 1],
      series: [
        { name: 'train (last 20 episodes)', points: series(records, 'rollout/ep_iou_mean') },
        {
          name: opts.protocol ? `eval (${opts.protocol} protocol)` : 'eval',
          points: series(records, 'eval/final_iou'),
          markers: true,
        },
      ],
    },
    {
      title: 'Click label accuracy (SRM)',
      xLabel: 'env steps',
      yLabel: 'accuracy',
      yRange: [0, 1],
      emptyText: 'no label data',
      series: [
        { name: 'train', points: series(records, 'rollout/label_accuracy') },
        { name: 'eval', points: series(records, 'eval/label_accuracy'), markers: true },
      ],
    },
  ];
  // One legend width for all three, so that their x axes line up.
  const legendWidth = Math.max(...panels.map((p) => legendWidthFor(p.series.map((s) => s.name))));
  return stackFigures(panels.map((p) => linePlot({ ...p, width, height: 300, legendWidth })));
}

/** mIoU after k clicks, one line per policy; the title names the protocol when the reports carry one. */
export function miouClicksPlot(
  reports: readonly EvaluationReport[],
  opts: { width?: number; height?: number } = {},
): Figure {
  const protocol = (reports[0] as { protocol?: string } | undefined)?.protocol;
  return linePlot({
    title: protocol ? `mIoU vs clicks (${protocol} protocol)` : 'mIoU vs clicks',
    xLabel: 'clicks',
    yLabel: 'mIoU',
    width: opts.width ?? 720,
    height: opts.height ?? 400,
    yRange: [0, 1],
    series: reports.map((r) => ({
      name: `${r.policy} (${r.episodes.length} episodes)`,
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

/** Write the report of a run folder (PNGs, and the plots' SVGs beside them). */
export async function writeRunReport(runDir: string, reports: readonly EvaluationReport[] = []): Promise<ReportFiles> {
  const out = path.join(runDir, 'report');
  fs.mkdirSync(out, { recursive: true });
  const files: ReportFiles = { episodes: [] };
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  if (fs.existsSync(metricsFile)) {
    files.training = path.join(out, 'training.png');
    await writeFigure(
      trainingPlot(readMetrics(metricsFile), { protocol: (reports[0] as { protocol?: string } | undefined)?.protocol }),
      files.training,
    );
  }
  if (reports.length > 0) {
    files.miouClicks = path.join(out, 'miou-clicks.png');
    await writeFigure(miouClicksPlot(reports), files.miouClicks);
  }
  for (const r of reports) {
    const pics: RgbImage[] = [];
    for (const e of r.episodes)
      if (e.picture)
        pics.push(
          await drawEpisode(e.picture, { caption: `${e.targetName ?? e.sampleId}  IoU ${e.finalIou.toFixed(2)}` }),
        );
    if (pics.length === 0) continue;
    const file = path.join(out, `episodes-${r.policy}.png`);
    await writePng(file, await contactSheet(pics, `${r.policy}: evaluation episodes`));
    files.episodes.push(file);
  }
  return files;
}
