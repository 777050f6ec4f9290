/** mIoU against clicks for each row of an ablation summary (reference rows dashed). */
import type { AblationSummary } from './ablation-summary';
import { linePlot } from './line-plot';
import { Figure, writeFigure } from './svg';

export function ablationPlot(s: AblationSummary): Figure {
  return linePlot({
    title: `mIoU vs clicks (${s.protocol} protocol, ${s.seeds} seeds)`,
    xLabel: 'clicks',
    yLabel: 'mIoU',
    width: 800,
    height: 480,
    yRange: [0, 1],
    series: s.rows.map((r) => ({
      name: r.name,
      points: r.curve.map((v, k) => [k + 1, v] as const),
      markers: r.curve.length <= 15,
      dashed: r.variant !== 'full' || r.policy !== 'agent',
    })),
  });
}

/** Writes `file` (a .png) and the .svg beside it. */
export async function writeAblationPlot(s: AblationSummary, file: string): Promise<{ png: string; svg: string }> {
  return writeFigure(ablationPlot(s), file);
}
