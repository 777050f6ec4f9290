import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ComparisonReport } from '../../src/eval/compare';
import { evaluationScalars, writeEvaluationJson } from '../../src/eval/run-evaluation';

function row(policy: string, mean: Record<string, number>): ComparisonReport {
  return { policy, description: `${policy} row`, protocol: 'deployed', episodes: [], mean, meanIouCurve: [0.5] };
}

describe('a run evaluation as metrics and eval.json', () => {
  it('names the agent row eval/ and the baselines baseline/<policy>/, with the return as mean_return', () => {
    expect(evaluationScalars(row('agent', { final_iou: 0.7, return: 2 }))).toEqual({
      'eval/final_iou': 0.7,
      'eval/mean_return': 2,
    });
    expect(evaluationScalars(row('oracle', { final_iou: 0.9, 'iou@1': 0.4 }))).toEqual({
      'baseline/oracle/final_iou': 0.9,
      'baseline/oracle/iou@1': 0.4,
    });
  });

  it('writes eval.json with the protocol, the checkpoint and every row, replacing the old one', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'eval-json-'));
    try {
      const file = path.join(dir, 'eval.json');
      await fsp.writeFile(file, '{"old": true}\n');
      await writeEvaluationJson(file, [row('agent', { final_iou: 0.7 }), row('random', { final_iou: 0.3 })], {
        checkpoint: 'checkpoints/step-96',
        step: 96,
        episodes: 4,
      });
      const j = JSON.parse(await fsp.readFile(file, 'utf8'));
      expect(j).toMatchObject({ protocol: 'deployed', checkpoint: 'checkpoints/step-96', step: 96, episodes: 4 });
      expect(j.old).toBeUndefined();
      expect(j.policies.map((p: { policy: string; description: string }) => [p.policy, p.description])).toEqual([
        ['agent', 'agent row'],
        ['random', 'random row'],
      ]);
      expect(await fsp.readdir(dir)).toEqual(['eval.json']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
