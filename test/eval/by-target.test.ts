import type { ComparisonReport } from '../../src/eval/compare';
import { formatEvaluationTable } from '../../src/eval/compare';
import { meansByTarget, reportToJson, type EpisodeResult } from '../../src/eval/evaluate';

function episode(targetName: string | null, finalIou: number): EpisodeResult {
  return {
    index: 0,
    sampleId: 's',
    targetName,
    return: 1,
    initialIou: 0,
    ious: [finalIou],
    finalIou,
    finalDice: finalIou,
    labelAccuracy: 1,
    metrics: { final_iou: finalIou, 'iou@1': finalIou },
  };
}

function report(policy: string, episodes: EpisodeResult[]): ComparisonReport {
  const mean = { final_iou: episodes.reduce((a, e) => a + e.finalIou, 0) / episodes.length };
  return { policy, description: `${policy} row`, protocol: 'deployed', episodes, mean, meanIouCurve: [mean.final_iou] };
}

describe('metrics per target name', () => {
  it('averages each name on its own episodes, names sorted', () => {
    const by = meansByTarget([episode('star', 0.9), episode('circle', 0.2), episode('star', 0.5)]);
    expect(Object.keys(by!)).toEqual(['circle', 'star']);
    expect(by!.star.episodes).toBe(2);
    expect(by!.star.mean.final_iou).toBeCloseTo(0.7, 12);
    expect(by!.circle).toEqual({ episodes: 1, mean: { final_iou: 0.2, 'iou@1': 0.2 } });
  });

  it('is absent for a task with one name or without names', () => {
    expect(meansByTarget([episode('star', 0.9), episode('star', 0.1)])).toBeNull();
    expect(meansByTarget([episode(null, 0.9), episode('star', 0.1)])).toBeNull();
    expect(reportToJson(report('agent', [episode('star', 0.9)]))).not.toHaveProperty('mean_by_target');
  });

  it('goes into eval.json and under the printed table, where a weak name shows', () => {
    const agent = report('agent', [episode('star', 0.9), episode('circle', 0.3), episode('circle', 0.5)]);
    const oracle = report('oracle', [episode('star', 0.8), episode('circle', 0.6), episode('circle', 0.6)]);
    expect(reportToJson(agent).mean_by_target).toEqual(meansByTarget(agent.episodes));
    const lines = formatEvaluationTable([agent, oracle]).split('\n');
    const head = lines.findIndex((l) => l.startsWith('final IoU by target'));
    expect(lines[head].split(/\s{2,}/)).toEqual(['final IoU by target', 'circle (2)', 'star (1)']);
    expect(lines[head + 2].split(/\s+/)).toEqual(['agent', 'row', '0.400', '0.900']);
    expect(lines[head + 3].split(/\s+/)).toEqual(['oracle', 'row', '0.600', '0.800']);
  });
});
