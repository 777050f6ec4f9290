/** mIoU against clicks for each row of an ablation summary (the ceiling dashed), as a PNG. */
import type { AblationSummary } from '../runs/ablation-summary';
import { linePlot } from './line-plot';

export async function writeAblationPlot(s: AblationSummary, file: string): Promise<void> {
  const plot = linePlot({
    title: `MIOU VS CLICKS (${s.protocol.toUpperCase()} PROTOCOL, ${s.seeds} SEEDS)`,
    xLabel: 'CLICKS',
    yLabel: 'MIOU',
    width: 720,
    height: 480,
    yRange: [0, 1],
    series: s.rows.map((r) => ({
      name: r.name.toUpperCase(),
      points: r.curve.map((v, k) => [k + 1, v] as const),
      markers: r.curve.length <= 15,
      dashed: r.variant !== 'full' || r.policy !== 'agent',
    })),
  });
  await plot.writePng(file);
}
