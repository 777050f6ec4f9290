/** The interleaved benchmark's rounds: who goes first rotates, and a side that fails is retired alone. */
import { runInterleaved, type Side } from '../../scripts/perf/interleaved';

function fakeSide(
  id: string,
  log: string[],
  options: { encoderMs: number; failOnCall?: number; decoder?: boolean },
): Side {
  let calls = 0;
  return {
    id,
    label: id,
    threads: 1,
    async encoder() {
      calls += 1;
      log.push(id);
      if (calls === options.failOnCall) throw new Error(`${id} broke`);
      return options.encoderMs + calls;
    },
    decoder: options.decoder === false ? undefined : async (n) => Array.from({ length: n }, (_, i) => 10 * (i + 1)),
    async close() {
      log.push(`${id} closed`);
    },
  };
}

describe('runInterleaved', () => {
  it('rotates the first side each round and records every round of every side', async () => {
    const log: string[] = [];
    const a = fakeSide('a', log, { encoderMs: 100 });
    const b = fakeSide('b', log, { encoderMs: 200, decoder: false });
    const c = fakeSide('c', log, { encoderMs: 300 });
    const firsts: string[] = [];
    const series = await runInterleaved([a, b, c], {
      rounds: 4,
      decoderCalls: 3,
      onRound: (_, first) => firsts.push(first.id),
    });
    expect(firsts).toEqual(['a', 'b', 'c', 'a']);
    expect(log).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c']);
    expect(series.get(a)).toEqual({ encoderMs: [101, 102, 103, 104], decoderMs: [20, 20, 20, 20], error: null });
    // A side without a decoder has no decoder series.
    expect(series.get(b)!.decoderMs).toEqual([]);
  });

  it('retires a side that throws, with its error, and goes on with the others', async () => {
    const log: string[] = [];
    const a = fakeSide('a', log, { encoderMs: 100 });
    const b = fakeSide('b', log, { encoderMs: 200, failOnCall: 2 });
    const series = await runInterleaved([a, b], { rounds: 3, decoderCalls: 1 });
    expect(series.get(b)).toEqual({ encoderMs: [201], decoderMs: [10], error: 'b broke' });
    expect(series.get(a)!.encoderMs).toEqual([101, 102, 103]);
    expect(log.filter((l) => l === 'b closed')).toHaveLength(1);
  });
});
