import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import type { Callback, CallbackContext } from '../../src/agent/callbacks';
import {
  CheckpointCallback,
  EvalCallback,
  ProgressBarCallback,
  StopTrainingOnRewardThreshold,
} from '../../src/agent/callbacks';
import { evaluatePolicy } from '../../src/agent/evaluate';
import { batchObservations } from '../../src/agent/observation';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { PPO, PPOOptions } from '../../src/agent/ppo/ppo';
import { linearSchedule } from '../../src/agent/schedules';
import { toVectorEnv } from '../../src/env/vector/to-vector-env';
import { BrightCellsEnv } from './bright-cells-env';

beforeAll(async () => {
  await initBackend('wasm');
});

let tmpRoot = '';
beforeAll(async () => {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'ppo-test-'));
});
afterAll(async () => {
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const smallNet = { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 };
const fastPpo: Partial<PPOOptions> = {
  nSteps: 12,
  batchSize: 24,
  nEpochs: 4,
  learningRate: 1e-3,
  entCoef: 0.01,
  net: smallNet,
};

function envs(tag: string, n: number, extra: ConstructorParameters<typeof BrightCellsEnv>[0] = {}): BrightCellsEnv[] {
  return Array.from({ length: n }, (_, i) => new BrightCellsEnv({ name: `${tag}${i}`, ...extra }));
}

async function closeAll(list: BrightCellsEnv[]): Promise<void> {
  for (const e of list) await e.close();
}

/** Mean return of the uniform random clicker (honouring the action mask). */
async function randomReturn(list: BrightCellsEnv[], episodes: number): Promise<number> {
  const random = {
    predict: async (obs: unknown[]): Promise<Int32Array> =>
      Int32Array.from(obs as PromptObservation[], (o, i) => list[i].actionSpace.sample(Uint8Array.from(o.actionMask))),
  };
  return (await evaluatePolicy(random, list, episodes)).meanReward;
}

function weightsOf(agent: PPO): Map<string, Float32Array> {
  const rec = agent.policy.params.toRecord();
  return new Map([...rec].map(([k, v]) => [k, v.data as Float32Array]));
}

describe('PPO', () => {
  it('reaches >= 95% of the optimal return on the bright-cells task, far above random, with flat memory', async () => {
    const train = envs('train', 4);
    const evalEnvs = envs('eval', 2, { seed: 500 });
    const agent = new PPO(train, { ...fastPpo, seed: 1 });
    const t0 = Date.now();
    await agent.learn({ totalTimesteps: 480 });
    const tensorsAfterFirst = tf.memory().numTensors;
    await agent.learn({ totalTimesteps: 1920, resetNumTimesteps: false });
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const seconds = (Date.now() - t0) / 1000;
    const trained = await evaluatePolicy(agent, evalEnvs, 20);
    const random = await randomReturn(envs('rand', 2, { seed: 500 }), 40);
    const optimal = train[0].optimalReturn;
    console.log(
      `PPO bright-cells: ${agent.numTimesteps} steps in ${seconds.toFixed(1)} s; eval ${trained.meanReward.toFixed(2)} / optimal ${optimal}; random ${random.toFixed(2)}`,
    );
    expect(trained.meanReward).toBeGreaterThanOrEqual(0.95 * optimal);
    expect(random).toBeLessThan(0);
    const last = agent.logs[agent.logs.length - 1];
    for (const k of [
      'approx_kl',
      'clip_fraction',
      'explained_variance',
      'entropy_loss',
      'value_loss',
      'policy_gradient_loss',
      'loss',
    ]) {
      expect(Number.isFinite(last[k])).toBe(true);
    }
    expect(last.explained_variance).toBeGreaterThan(0.5);
    agent.dispose();
    await closeAll([...train, ...evalEnvs]);
  });

  it('bootstraps truncated episodes with gamma * V(final observation)', async () => {
    // Horizon 2 with no termination: every second step is truncated.
    const list = envs('trunc', 2, { horizon: 2, nBright: 16 });
    const agent = new PPO(list, { ...fastPpo, nSteps: 4, batchSize: 8, nEpochs: 1, gamma: 0.9, seed: 3 });
    // V(final observation) is computed when the step happens (the env frees old embeddings later);
    // the weights do not change during a rollout, so it is the value the trainer used.
    const finals: Array<{ step: number; env: number; value: number }> = [];
    let step = 0;
    const checks: number[] = [];
    const spy: Callback = {
      onStep(ctx: CallbackContext) {
        const net = agent.policy;
        ctx.infos.forEach((info, env) => {
          const obs = info.final_observation as PromptObservation | undefined;
          if (!obs) return;
          const value = tf.tidy(() => net.forward(batchObservations([obs], net.dims(8, 8))).values!.dataSync()[0]);
          finals.push({ step, env, value });
        });
        step++;
      },
      onRolloutEnd() {
        const buffer = agent['buffer']!;
        // Every click pays +1 (all cells bright), so a truncated step's reward is 1 + gamma * V(final).
        for (const f of finals) checks.push(Math.abs(buffer.rewards[f.step * 2 + f.env] - (1 + 0.9 * f.value)));
        // Non-final steps keep their plain reward.
        expect(buffer.rewards[0]).toBe(1);
        finals.length = 0;
        step = 0;
      },
    };
    await agent.learn({ totalTimesteps: 16, callbacks: spy });
    expect(checks.length).toBe(8);
    expect(Math.max(...checks)).toBeLessThan(1e-5);
    agent.dispose();
    await closeAll(list);
  });

  it('resumes exactly: N steps + save/load + N steps equals 2N steps straight', async () => {
    const n = 96; // 2 rollouts of 12 steps x 4 envs; episodes (3 steps) end exactly at rollout ends
    // Annealed learning rate and clip range on one schedule over 2N steps in both runs.
    const opts: Partial<PPOOptions> = {
      ...fastPpo,
      seed: 7,
      learningRate: linearSchedule(5e-4),
      clipRange: linearSchedule(0.3, 0.1),
      clipRangeVf: 0.2,
      targetKl: 0.5,
      scheduleTimesteps: 2 * n,
    };
    const straight = new PPO(envs('a', 4), opts);
    await straight.learn({ totalTimesteps: 2 * n });

    const first = new PPO(envs('b', 4), opts);
    await first.learn({ totalTimesteps: n });
    const dir = path.join(tmpRoot, 'resume');
    await first.save(dir);
    // The env continues its episode sequence: env i was seeded with 7 + i and has played 8 episodes.
    const resumedEnvs = Array.from(
      { length: 4 },
      (_, i) => new BrightCellsEnv({ name: `c${i}`, seed: 7 + i, firstEpisode: n / 4 / 3 }),
    );
    const resumed = await PPO.load(dir, { env: resumedEnvs });
    expect(resumed.numTimesteps).toBe(n);
    await resumed.learn({ totalTimesteps: n, resetNumTimesteps: false });

    const a = weightsOf(straight);
    const b = weightsOf(resumed);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(Array.from(b.get(k)!)).toEqual(Array.from(v));
    expect(resumed['optimizer']!.step).toBe(straight['optimizer']!.step);
    // And training really moved the weights away from the checkpoint.
    const saved = weightsOf(first);
    expect([...a].some(([k, v]) => v.some((x, i) => x !== saved.get(k)![i]))).toBe(true);
    for (const ag of [straight, first, resumed]) ag.dispose();
  });

  it('is deterministic for a seed and predicts for one or many observations', async () => {
    const run = async (seed: number): Promise<Float32Array> => {
      const ag = new PPO(envs(`d${seed}`, 2), { ...fastPpo, seed });
      await ag.learn({ totalTimesteps: 24 });
      const w = ag.policy.params.get('pi/w').dataSync() as Float32Array;
      ag.dispose();
      return w;
    };
    expect(Array.from(await run(5))).toEqual(Array.from(await run(5)));
    expect(Array.from(await run(5))).not.toEqual(Array.from(await run(6)));

    const env = new BrightCellsEnv({ name: 'p' });
    const agent = new PPO(null, { ...fastPpo, seed: 1 });
    const { observation } = await env.reset({ seed: 1 });
    const one = await agent.predict(observation, { deterministic: true });
    expect(typeof one).toBe('number');
    const many = await agent.predict([observation, observation], { deterministic: true });
    expect(Array.from(many)).toEqual([one, one]);
    expect(observation.actionMask[one]).toBe(1);
    await expect(agent.learn({ totalTimesteps: 10 })).rejects.toThrow(/no env/);
    agent.dispose();
    await env.close();
  });

  it('stops an update early when approx-KL exceeds 1.5 * targetKl', async () => {
    const agent = new PPO(envs('kl', 2), {
      ...fastPpo,
      batchSize: 4,
      nEpochs: 5,
      learningRate: 5e-2,
      targetKl: 1e-6,
      seed: 2,
    });
    await agent.learn({ totalTimesteps: 48 });
    const logs = agent.logs;
    expect(logs.length).toBe(2);
    expect(logs.every((l) => l.early_stopped === 1)).toBe(true);
    // 24 samples / 4 per minibatch * 5 epochs = 30 possible updates per iteration; far fewer applied.
    expect(agent.nUpdates).toBeLessThan(10);
    expect(agent.nUpdates).toBeGreaterThan(0);
    agent.dispose();
  });

  it('anneals the learning rate linearly to zero over the run', async () => {
    const agent = new PPO(envs('lr', 2), { ...fastPpo, learningRate: linearSchedule(1e-3), seed: 4 });
    await agent.learn({ totalTimesteps: 96 });
    const lrs = agent.logs.map((l) => l.learning_rate);
    // progress remaining after each rollout of 24 steps: 0.75, 0.5, 0.25, 0
    expect(lrs.map((v) => +v.toFixed(8))).toEqual([7.5e-4, 5e-4, 2.5e-4, 0]);
    agent.dispose();
  });

  it('checkpoints every N steps, evaluates keeping the best, and stops at a reward threshold', async () => {
    const dir = path.join(tmpRoot, 'cb');
    const ckpt = new CheckpointCallback({ everySteps: 48, dir });
    const evalCb = new EvalCallback({
      evalEnv: toVectorEnv(envs('ev', 2, { seed: 900 }), 'same-step'),
      everySteps: 48,
      nEpisodes: 4,
      bestModelDir: dir,
      onNewBest: new StopTrainingOnRewardThreshold({ threshold: -100 }),
    });
    const agent = new PPO(envs('cbt', 2), { ...fastPpo, seed: 9 });
    await agent.learn({ totalTimesteps: 480, callbacks: [ckpt, evalCb] });
    // The threshold is met at the first evaluation, so training stops at 48 steps.
    expect(agent.numTimesteps).toBe(48);
    expect(ckpt.saved).toEqual([path.join(dir, 'model_48_steps')]);
    expect(evalCb.evaluations.length).toBe(1);
    const best = await PPO.load(path.join(dir, 'best_model'));
    expect(best.numTimesteps).toBe(48);
    expect(Array.from(best.policy.params.get('pi/w').dataSync())).toEqual(
      Array.from(agent.policy.params.get('pi/w').dataSync()),
    );
    best.dispose();
    agent.dispose();
  });

  it('draws a progress bar with rate and ETA', () => {
    const bar = new ProgressBarCallback({ width: 10 });
    expect(bar.render(250, 1000, 5)).toBe('[###-------]  25% 250/1000 50 steps/s ETA 00:15 elapsed 00:05');
    expect(bar.render(0, 1000, 0)).toMatch(/- steps\/s ETA --:--/);
  });

  it('refuses bad options and bad checkpoints with clear errors', async () => {
    expect(() => new PPO(null, { nSteps: 0 })).toThrow(/PPO option 'nSteps': expected an integer >= 1, got 0/);
    expect(() => new PPO(null, { gamma: 1.5 })).toThrow(/'gamma'/);
    const agent = new PPO(null, fastPpo);
    await expect(agent.save(path.join(tmpRoot, 'never'))).rejects.toThrow(/nothing to save yet/);
    const bad = path.join(tmpRoot, 'bad');
    await fsp.mkdir(bad, { recursive: true });
    await fsp.writeFile(path.join(bad, 'agent.json'), '{"format": "something-else"}');
    await expect(PPO.load(bad)).rejects.toThrow(/not an agent checkpoint/);
    await fsp.writeFile(path.join(bad, 'agent.json'), '{oops');
    await expect(PPO.load(bad)).rejects.toThrow(/agent.json: invalid JSON/);
    agent.dispose();
  });
});
