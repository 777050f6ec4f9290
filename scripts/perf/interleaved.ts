/**
 * Several implementations timed in turn on the same work, round after round. On a machine whose
 * speed drifts from minute to minute (a shared VM), sides measured back to back see the same drift,
 * which separate runs minutes apart do not; the first side of each round rotates so that none is
 * always the one that starts cold or follows the heaviest.
 */
import { median } from '../../src/utils/median';

export interface Side {
  readonly id: string;
  readonly label: string;
  /** Threads (or worker threads) it may use. */
  readonly threads: number;
  /** One encoder pass; returns ms per image. */
  encoder(): Promise<number>;
  /** `calls` decoder calls with one prompt set; returns the ms of each (absent: not measured). */
  decoder?(calls: number): Promise<number[]>;
  close(): Promise<void>;
}

export interface SideSeries {
  /** Per round: ms per image. */
  encoderMs: number[];
  /** Per round: the median ms of its decoder calls. */
  decoderMs: number[];
  /** Set when the side failed; it is left out of the rounds after. */
  error: string | null;
}

/**
 * `rounds` rounds over `sides`, each side one encoder pass then `decoderCalls` decoder calls;
 * `onRound` sees every finished round. A side that throws is retired with its error; the others go on.
 */
export async function runInterleaved(
  sides: readonly Side[],
  options: {
    rounds: number;
    decoderCalls: number;
    onRound?: (round: number, first: Side, series: Map<Side, SideSeries>) => void;
  },
): Promise<Map<Side, SideSeries>> {
  const series = new Map(sides.map((s) => [s, { encoderMs: [], decoderMs: [], error: null } as SideSeries]));
  // Warm-up outside the rounds: the first decoder calls pay for compiling and packing.
  for (const side of sides) await step(side, series.get(side)!, () => side.decoder?.(3));
  for (let r = 0; r < options.rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]);
    for (const side of order) {
      const s = series.get(side)!;
      if (s.error !== null) continue;
      await step(side, s, async () => {
        s.encoderMs.push(await side.encoder());
        if (side.decoder) s.decoderMs.push(median(await side.decoder(options.decoderCalls)));
      });
    }
    options.onRound?.(r, order[0], series);
  }
  return series;
}

async function step(side: Side, s: SideSeries, work: () => Promise<unknown> | undefined): Promise<void> {
  if (s.error !== null) return;
  try {
    await work();
  } catch (err) {
    s.error = (err as Error).message;
    await side.close().catch(() => undefined);
  }
}
