import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { DQN, DQNOptions } from '../../src/agent/dqn/dqn';
import { dqnTargets, huberLoss } from '../../src/agent/dqn/dqn-targets';
import { NStepAccumulator } from '../../src/agent/dqn/n-step';
import { ReplayBuffer } from '../../src/agent/dqn/replay-buffer';
import { evaluatePolicy } from '../../src/agent/evaluate';
import { linearSchedule } from '../../src/agent/schedules';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { Rng } from '../../src/utils/rng';
import { BrightCellsEnv } from './bright-cells-env';
import { randomObservation } from './helpers';

beforeAll(async () => {
  await initBackend('wasm');
});

let tmpRoot = '';
beforeAll(async () => {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'dqn-test-'));
});
afterAll(async () => {
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const smallNet = { projChannels: 8, embedConvChannels: [8], gridConvChannels: [16, 16], valueHidden: 16 };
const fastDqn: Partial<DQNOptions> = {
  learningRate: 1e-3,
  learningStarts: 200,
  trainFreq: 1,
  gradientSteps: 1,
  batchSize: 32,
  targetUpdateInterval: 200,
  explorationFraction: 0.3,
  bufferSize: 600,
  gamma: 0.9,
  logInterval: 50,
  net: smallNet,
};

function envs(tag: string, n: number, extra: ConstructorParameters<typeof BrightCellsEnv>[0] = {}): BrightCellsEnv[] {
  return Array.from({ length: n }, (_, i) => new BrightCellsEnv({ name: `${tag}${i}`, ...extra }));
}

describe('DQN targets and loss', () => {
  // Two next states, three actions. Row 0 not done; row 1 done.
  const base = {
    rewards: Float32Array.from([1, -1]),
    dones: Uint8Array.from([0, 1]),
    discounts: Float32Array.from([0.9, 0.9]),
    nextQTarget: Float32Array.from([5, 2, 7, 100, 100, 100]),
    nextMask: Uint8Array.from([1, 1, 0, 1, 1, 1]),
    nActions: 3,
  };

  it('vanilla: masked max of the target net', () => {
    // Action 2 (Q 7) is masked: max over {5, 2} = 5 -> 1 + 0.9 * 5; done row -> reward only.
    const y = dqnTargets({ ...base, nextQOnline: null });
    expect(y[0]).toBeCloseTo(5.5, 6);
    expect(y[1]).toBe(-1);
  });

  it("double: target net evaluated at the online net's masked argmax", () => {
    // Online prefers action 1 among allowed {0, 1} (and 2, masked, even more): Q_target(s', 1) = 2.
    const y = dqnTargets({ ...base, nextQOnline: Float32Array.from([0, 3, 9, 0, 0, 0]) });
    expect(y[0]).toBeCloseTo(1 + 0.9 * 2, 6);
    expect(y[1]).toBe(-1);
  });

  it('a non-terminal next state with no allowed action adds no future value', () => {
    const y = dqnTargets({ ...base, nextMask: new Uint8Array(6), nextQOnline: null });
    expect(y[0]).toBe(1);
  });

  it('Huber loss: quadratic inside 1, linear outside', () => {
    const v = tf.tidy(() => huberLoss(tf.tensor1d([0.5, 3, -2]), tf.tensor1d([0, 0, 0])).dataSync()[0]);
    expect(v).toBeCloseTo((0.125 + 2.5 + 1.5) / 3, 6);
  });
});

describe('n-step returns', () => {
  const obs = (k: number): PromptObservation => ({ tag: k }) as unknown as PromptObservation;

  it('emits n-step transitions, shorter ones at episode ends, with the right discounts', () => {
    const acc = new NStepAccumulator(1, 3, 0.5);
    expect(acc.push(0, obs(0), 0, 1, obs(1), false, false)).toEqual([]);
    expect(acc.push(0, obs(1), 1, 2, obs(2), false, false)).toEqual([]);
    const t3 = acc.push(0, obs(2), 2, 4, obs(3), false, false);
    expect(t3).toHaveLength(1);
    expect(t3[0]).toMatchObject({ action: 0, reward: 1 + 0.5 * 2 + 0.25 * 4, terminated: false, discount: 0.125 });
    expect((t3[0].nextObs as unknown as { tag: number }).tag).toBe(3);
    // Truncation after one more step: the window flushes, bootstrapping from the final observation.
    const t4 = acc.push(0, obs(3), 3, 8, obs(99), false, true);
    expect(t4.map((t) => [t.action, t.reward, t.discount, t.terminated])).toEqual([
      [1, 2 + 0.5 * 4 + 0.25 * 8, 0.125, false],
      [2, 4 + 0.5 * 8, 0.25, false],
      [3, 8, 0.5, false],
    ]);
    expect(acc.pendingCount).toBe(0);
    // Termination: done is true.
    acc.push(0, obs(5), 5, 1, obs(6), false, false);
    const t6 = acc.push(0, obs(6), 6, 1, obs(100), true, false);
    expect(t6.map((t) => [t.reward, t.terminated])).toEqual([
      [1.5, true],
      [1, true],
    ]);
  });
});

describe('replay buffer', () => {
  it('holds embeddings by reference, survives the env freeing them, and frees them when overwritten', () => {
    const dims = { embedH: 4, embedW: 4, embedChannels: 3, gridSize: 2, nActions: 4, textDim: 0 };
    const rng = new Rng(1);
    const buf = new ReplayBuffer(3, dims);
    const before = tf.memory().numTensors;
    const mk = (key: string): PromptObservation => randomObservation(rng, { key, h: 4, w: 4, c: 3, g: 2, nActions: 4 });
    const a = mk('a');
    const b = mk('b');
    const aValues = Array.from(a.embedding.tensor.dataSync());
    buf.add(a, 1, 0.5, { ...a, stepFraction: 0.5 }, false, 0.9);
    buf.add(a, 2, 1, b, true, 0.9);
    a.embedding.tensor.dispose(); // the env lets go of image a
    b.embedding.tensor.dispose();
    expect(buf.store.size).toBe(2);
    const s = buf.get(Int32Array.from([0, 1]));
    expect(Array.from(s.observations.embeddings[0].tensor.dataSync())).toEqual(aValues);
    expect(s.nextObservations.embeddings[1].key).toBe('b');
    expect(Array.from(s.dones)).toEqual([0, 1]);
    // Overwrite everything with image c: a and b are released and freed.
    const c = mk('c');
    for (let i = 0; i < 3; i++) buf.add(c, 0, 0, c, false, 0.9);
    expect(buf.store.keys()).toEqual(['c']);
    c.embedding.tensor.dispose();
    buf.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DQN agent', () => {
  it('reaches >= 95% of the optimal return on the bright-cells task, far above random, with flat memory', async () => {
    const train = envs('train', 4);
    const evalEnvs = envs('eval', 2, { seed: 500 });
    const agent = new DQN(train, { ...fastDqn, seed: 1 });
    const t0 = Date.now();
    await agent.learn({ totalTimesteps: 800 });
    // The buffer (600) has wrapped: apart from the embeddings it holds, the tensor count is flat.
    const extra = (): number => tf.memory().numTensors - agent.replayBuffer.store.size;
    const afterFirst = extra();
    await agent.learn({ totalTimesteps: 800, resetNumTimesteps: false });
    expect(extra()).toBe(afterFirst);
    expect(agent.replayBuffer.store.size).toBeLessThanOrEqual(600 / 3 + 4);
    const seconds = (Date.now() - t0) / 1000;
    const trained = await evaluatePolicy(agent, evalEnvs, 20);
    const randomAgent = new DQN(null, { ...fastDqn, seed: 2, explorationInitialEps: 1 });
    const random = await evaluatePolicy(
      { predict: (o, opts) => randomAgent.predict(o, { ...opts, deterministic: false }) },
      envs('rand', 2, { seed: 500 }),
      40,
    );
    const optimal = train[0].optimalReturn;
    console.log(
      `DQN bright-cells: ${agent.numTimesteps} steps in ${seconds.toFixed(1)} s; eval ${trained.meanReward.toFixed(2)} / optimal ${optimal}; random ${random.meanReward.toFixed(2)}`,
    );
    expect(trained.meanReward).toBeGreaterThanOrEqual(0.95 * optimal);
    expect(random.meanReward).toBeLessThan(0);
    expect(agent.explorationRate).toBeCloseTo(0.05, 6);
    randomAgent.dispose();
    agent.dispose();
  });

  it('resumes exactly from a checkpoint with its replay buffer: N + save/load + N equals 2N', async () => {
    const n = 96; // 4 envs x 24 steps; episodes of 3 end on the boundary
    // Exploration and learning rate follow one schedule over 2N steps in both runs.
    const opts: Partial<DQNOptions> = {
      ...fastDqn,
      seed: 11,
      learningStarts: 48,
      bufferSize: 200,
      targetUpdateInterval: 40,
      tau: 0.5,
      nSteps: 1,
      learningRate: linearSchedule(1e-3, 1e-4),
      scheduleTimesteps: 2 * n,
    };
    const straight = new DQN(envs('a', 4), opts);
    await straight.learn({ totalTimesteps: 2 * n });

    const first = new DQN(envs('b', 4), opts);
    await first.learn({ totalTimesteps: n });
    const dir = path.join(tmpRoot, 'resume');
    await first.save(dir);
    first.dispose();
    const resumedEnvs = Array.from(
      { length: 4 },
      (_, i) => new BrightCellsEnv({ name: `c${i}`, seed: 11 + i, firstEpisode: n / 4 / 3 }),
    );
    const resumed = await DQN.load(dir, { env: resumedEnvs });
    expect(resumed.replayBuffer.size).toBe(n);
    await resumed.learn({ totalTimesteps: n, resetNumTimesteps: false });

    for (const [which, a, b] of [
      ['q', straight.policy.params.toRecord(), resumed.policy.params.toRecord()],
      ['target', straight.targetNet.params.toRecord(), resumed.targetNet.params.toRecord()],
    ] as const) {
      for (const [k, v] of a)
        expect([which, k, Array.from(b.get(k)!.data as Float32Array)]).toEqual([
          which,
          k,
          Array.from(v.data as Float32Array),
        ]);
    }
    expect(resumed.nUpdates).toBe(straight.nUpdates);
    expect(resumed.explorationRate).toBe(straight.explorationRate);
    straight.dispose();
    resumed.dispose();
  });

  it('updates the target net by hard copy every interval', async () => {
    const agent = new DQN(envs('t', 2), { ...fastDqn, learningStarts: 0, targetUpdateInterval: 8, tau: 1, seed: 3 });
    const same = (): boolean => {
      const q = agent.policy.params.get('q/w').dataSync();
      const t = agent.targetNet.params.get('q/w').dataSync();
      return q.every((v, i) => v === t[i]);
    };
    await agent.learn({ totalTimesteps: 8 }); // 4 vector steps: copied at the 4th (after 3 updates)
    expect(same()).toBe(false); // the 4th update ran after the copy
    const tBefore = Array.from(agent.targetNet.params.get('q/w').dataSync());
    await agent.learn({ totalTimesteps: 4, resetNumTimesteps: false }); // 2 vector steps: no copy
    expect(Array.from(agent.targetNet.params.get('q/w').dataSync())).toEqual(tBefore);
    agent.dispose();
  });

  it('stores n-step transitions from live episodes (n = 2, horizon 3)', async () => {
    const agent = new DQN(envs('ns', 2), { ...fastDqn, nSteps: 2, gamma: 0.5, learningStarts: 1000, seed: 5 });
    await agent.learn({ totalTimesteps: 12 }); // 2 envs x 6 steps = 2 episodes each, no training yet
    const rb = agent.replayBuffer;
    expect(rb.size).toBe(12);
    const discounts = Array.from(rb.discounts.slice(0, 12)).sort();
    // Per episode: two 2-step transitions (0.25) and the last step alone (0.5).
    expect(discounts).toEqual([...Array(8).fill(0.25), ...Array(4).fill(0.5)]);
    for (let i = 0; i < 12; i++) {
      const allowed = rb.discounts[i] === 0.25 ? [1.5, 0.5, -0.5, -1.5] : [1, -1];
      expect(allowed).toContain(rb.rewards[i]);
      expect(rb.dones[i]).toBe(0); // episodes are truncated, never terminated
    }
    agent.dispose();
  });

  it('refuses bad options with clear errors', () => {
    expect(() => new DQN(null, { gradientSteps: -2 })).toThrow(/'gradientSteps'/);
    expect(() => new DQN(null, { tau: 2 })).toThrow(/DQN option 'tau': expected a number in \[0, 1\], got 2/);
    expect(() => new DQN(null, { nSteps: 0 })).toThrow(/'nSteps'/);
  });
});
