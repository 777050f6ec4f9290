/**
 * Checkpoints written by CheckpointCallback during training (what a run folder holds after kill -9)
 * resume to the same weights as the straight run that wrote them.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend';
import { CheckpointCallback } from '../../src/agent/callbacks';
import { DQN, DQNOptions } from '../../src/agent/dqn/dqn';
import { PPO, PPOOptions } from '../../src/agent/ppo/ppo';
import { linearSchedule } from '../../src/agent/schedules';
import type { TensorRecord } from '../../src/io/tensor-record';
import { BrightCellsEnv } from './bright-cells-env';

beforeAll(async () => {
  await initBackend('wasm');
});

let tmpRoot = '';
beforeAll(async () => {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'resume-test-'));
});
afterAll(async () => {
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const smallNet = { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 };
const nEnvs = 4;

function envs(tag: string): BrightCellsEnv[] {
  return Array.from({ length: nEnvs }, (_, i) => new BrightCellsEnv({ name: `${tag}${i}` }));
}

/** Envs that go on where the straight run's envs were at `step`: episodes of 3 steps end there. */
function envsFrom(tag: string, seed: number, step: number): BrightCellsEnv[] {
  return Array.from(
    { length: nEnvs },
    (_, i) => new BrightCellsEnv({ name: `${tag}${i}`, seed: seed + i, firstEpisode: step / nEnvs / 3 }),
  );
}

function expectSameRecords(a: TensorRecord, b: TensorRecord, what: string): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, v] of a)
    expect([what, k, Array.from(b.get(k)!.data as Float32Array)]).toEqual([
      what,
      k,
      Array.from(v.data as Float32Array),
    ]);
}

describe('resuming from a checkpoint saved during training', () => {
  it('PPO: resuming from a mid-run checkpoint ends with the straight run weights, bit for bit', async () => {
    const total = 144; // 3 rollouts of 12 steps x 4 envs
    const opts: Partial<PPOOptions> = {
      nSteps: 12,
      batchSize: 24,
      nEpochs: 3,
      entCoef: 0.01,
      net: smallNet,
      seed: 3,
      learningRate: linearSchedule(5e-4),
      clipRange: linearSchedule(0.3, 0.1),
    };
    const dir = path.join(tmpRoot, 'ppo');
    const ckpt = new CheckpointCallback({ everySteps: 48, dir });
    const straight = new PPO(envs('s'), opts);
    await straight.learn({ totalTimesteps: total, callbacks: ckpt });
    expect(ckpt.saved.map((d) => path.basename(d))).toEqual(['model_48_steps', 'model_96_steps', 'model_144_steps']);

    for (const step of [48, 96]) {
      const resumed = await PPO.load(path.join(dir, `model_${step}_steps`), { env: envsFrom(`r${step}-`, 3, step) });
      expect(resumed.numTimesteps).toBe(step);
      expect(resumed.iteration).toBe(step / 48);
      await resumed.learn({ totalTimesteps: total - step, resetNumTimesteps: false });
      expectSameRecords(straight.policy.params.toRecord(), resumed.policy.params.toRecord(), `policy from ${step}`);
      expect([resumed.iteration, resumed.nUpdates]).toEqual([straight.iteration, straight.nUpdates]);
      resumed.dispose();
    }
    straight.dispose();
  });

  it('PPO: a checkpoint due mid-rollout is written after that rollout update', async () => {
    const dir = path.join(tmpRoot, 'ppo-mid');
    const ckpt = new CheckpointCallback({ everySteps: 60, dir });
    const agent = new PPO(envs('m'), { nSteps: 12, batchSize: 24, nEpochs: 1, net: smallNet, seed: 5 });
    let updatesAtSave = -1;
    const spy = new CheckpointCallback({
      everySteps: 60,
      dir: path.join(tmpRoot, 'ppo-mid-spy'),
      save: async () => {
        updatesAtSave = agent.nUpdates;
      },
    });
    await agent.learn({ totalTimesteps: 96, callbacks: [ckpt, spy] });
    expect(ckpt.saved.map((d) => path.basename(d))).toEqual(['model_96_steps']);
    expect(updatesAtSave).toBe(agent.nUpdates);
    agent.dispose();
  });

  it('DQN: resuming from a mid-run checkpoint ends with the straight run weights, bit for bit', async () => {
    const total = 144;
    const opts: Partial<DQNOptions> = {
      learningRate: linearSchedule(1e-3, 1e-4),
      learningStarts: 24,
      trainFreq: 2,
      gradientSteps: 1,
      batchSize: 16,
      targetUpdateInterval: 40,
      tau: 0.5,
      explorationFraction: 0.5,
      bufferSize: 200,
      gamma: 0.9,
      net: smallNet,
      seed: 11,
    };
    const dir = path.join(tmpRoot, 'dqn');
    const ckpt = new CheckpointCallback({ everySteps: 72, dir });
    const straight = new DQN(envs('s'), opts);
    await straight.learn({ totalTimesteps: total, callbacks: ckpt });
    expect(ckpt.saved.map((d) => path.basename(d))).toEqual(['model_72_steps', 'model_144_steps']);

    const resumed = await DQN.load(path.join(dir, 'model_72_steps'), { env: envsFrom('r', 11, 72) });
    await resumed.learn({ totalTimesteps: total - 72, resetNumTimesteps: false });
    expectSameRecords(straight.policy.params.toRecord(), resumed.policy.params.toRecord(), 'q');
    expectSameRecords(straight.targetNet.params.toRecord(), resumed.targetNet.params.toRecord(), 'target');
    expect(resumed.nUpdates).toBe(straight.nUpdates);
    straight.dispose();
    resumed.dispose();
  });
});
