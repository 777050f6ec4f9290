import { Discrete } from '../../../src/env/spaces';
import type { ResetOptions, ResetResult, RgbImage, StepResult } from '../../../src/env/types';
import { BaseVectorEnv, SyncVectorEnv, VectorEnvError } from '../../../src/env/vector';
import { ToyEnv, ToyObs, toySpaces } from '../fixtures/toy-env';

const posOf = (o: ToyObs) => o.position.indexOf(1);

function make(mode: 'next-step' | 'same-step', n = 2, size = 3) {
  return new SyncVectorEnv(
    Array.from({ length: n }, (_, i) => () => new ToyEnv({ size, tag: i })),
    { autoresetMode: mode },
  );
}

describe('SyncVectorEnv', () => {
  it('seeds env i with seed + i, or with per-env seeds', async () => {
    const venv = make('next-step', 3, 8);
    const r = await venv.reset({ seed: 10 });
    for (let i = 0; i < 3; i++) {
      const single = await new ToyEnv({ size: 8 }).reset({ seed: 10 + i });
      expect(r.infos[i].start).toBe(single.info.start);
      expect(r.infos[i].tag).toBe(i);
    }
    const again = await venv.reset({ seed: [12, 11, 10] });
    expect(again.infos.map((x) => x.start)).toEqual([r.infos[2].start, r.infos[1].start, r.infos[0].start]);
    await expect(venv.reset({ seed: [1, 2] })).rejects.toThrow(/2 seeds for 3 envs/);
  });

  it('next-step mode: returns the final observation, then resets on the following step ignoring the action', async () => {
    const venv = make('next-step');
    await venv.reset({ options: { start: 0 } });
    // env 0 walks right twice to the goal (cell 2); env 1 stays and then walks.
    let s = await venv.step([2, 1]);
    expect(Array.from(s.terminated)).toEqual([0, 0]);
    s = await venv.step([2, 1]);
    expect(Array.from(s.terminated)).toEqual([1, 0]);
    expect(s.rewards[0]).toBeCloseTo(1, 6);
    expect(posOf(s.observations[0])).toBe(2); // final observation
    expect(s.infos[0].pos).toBe(2);
    s = await venv.step([0, 2]); // env 0's action is ignored: it is reset
    expect(s.rewards[0]).toBe(0);
    expect(Array.from(s.terminated)).toEqual([0, 0]);
    expect(Array.from(s.truncated)).toEqual([0, 0]);
    expect(typeof s.infos[0].start).toBe('number'); // the reset info
    expect(posOf(s.observations[0])).toBe(s.infos[0].start);
    expect(s.infos[1].pos).toBe(1);
    s = await venv.step(new Int32Array([1, 2])); // typed arrays of actions work too
    expect(s.infos[0].pos).toBe(posOf(s.observations[0]));
    expect(s.terminated[1]).toBe(1);
  });

  it('same-step mode: resets within the step and reports final_observation and final_info', async () => {
    const venv = make('same-step');
    await venv.reset({ options: { start: 1 } });
    const s = await venv.step([2, 1]);
    expect(Array.from(s.terminated)).toEqual([1, 0]);
    expect(s.rewards[0]).toBeCloseTo(1, 6);
    const info = s.infos[0] as { start: number; final_observation: ToyObs; final_info: { pos: number } };
    expect(posOf(info.final_observation)).toBe(2);
    expect(info.final_info.pos).toBe(2);
    expect(posOf(s.observations[0])).toBe(info.start); // new episode's first observation
    expect(s.infos[1]).toEqual({ pos: 1, tag: 1 });
    const next = await venv.step([2, 1]); // env 0 steps in its new episode (no lost step)
    const stepInfo = (next.terminated[0] ? next.infos[0].final_info : next.infos[0]) as { pos: number };
    expect(stepInfo.pos).toBe(Math.min(2, info.start + 1));
  });

  it('names the failing env and rejects misuse', async () => {
    const venv = new SyncVectorEnv([() => new ToyEnv(), () => new ToyEnv({ failAfterSteps: 1 })]);
    await expect(venv.step([1, 1])).rejects.toThrow(/reset\(\) before step/);
    await venv.reset();
    await venv.step([1, 1]);
    const err = await venv.step([1, 1]).catch((e) => e);
    expect(err).toBeInstanceOf(VectorEnvError);
    expect(err.envIndex).toBe(1);
    expect(err.message).toMatch(/^env 1: step failed: ToyEnv deliberately failed/);
    await expect(venv.step([1])).rejects.toThrow(/needs 2 actions, got 1/);
    await venv.close();
    expect((venv.envs[0] as ToyEnv).closed).toBe(true);
    await expect(venv.reset()).rejects.toThrow(/after close/);
    expect(() => new SyncVectorEnv([() => new ToyEnv({ size: 3 }), () => new ToyEnv({ size: 4 })])).toThrow(
      /env 1 has observation space/,
    );
    expect(() => new SyncVectorEnv([() => new ToyEnv()], { autoresetMode: 'sometimes' as never })).toThrow(
      /unknown autoresetMode/,
    );
  });

  it('renders every env', async () => {
    const venv = new SyncVectorEnv([() => new ToyEnv({ renderable: true }), () => new ToyEnv()]);
    await venv.reset({ options: { start: 1 } });
    const imgs = await venv.render();
    expect(imgs[0]?.data[3]).toBe(255);
    expect(imgs[1]).toBeNull();
  });
});

/** A vector env that serves each step's steps and resets in one batch, as a SAM-batched env would. */
class BatchedToyVectorEnv extends BaseVectorEnv<ToyObs, number> {
  readonly batches: { stepped: number[]; reset: number[] }[] = [];
  private readonly envs: ToyEnv[];

  constructor(n: number, mode: 'next-step' | 'same-step') {
    const { observationSpace, actionSpace } = toySpaces(3);
    super(n, observationSpace, actionSpace as Discrete, mode);
    this.envs = Array.from({ length: n }, (_, i) => new ToyEnv({ size: 3, tag: i }));
  }

  protected async resetEnvs(
    indices: readonly number[],
    options: readonly ResetOptions[],
  ): Promise<ResetResult<ToyObs>[]> {
    return Promise.all(indices.map((i, k) => this.envs[i].reset(options[k])));
  }

  protected async stepEnvs(indices: readonly number[], actions: readonly number[]): Promise<StepResult<ToyObs>[]> {
    return Promise.all(indices.map((i, k) => this.envs[i].step(actions[k])));
  }

  protected override async stepAndResetEnvs(
    stepIndices: readonly number[],
    actions: readonly number[],
    resetIndices: readonly number[],
  ) {
    this.batches.push({ stepped: [...stepIndices], reset: [...resetIndices] });
    const resets = await this.resetEnvs(
      resetIndices,
      resetIndices.map(() => ({})),
    );
    const steps = await this.stepEnvs(stepIndices, actions);
    return { steps, resets };
  }

  async render(): Promise<(RgbImage | null)[]> {
    return this.envs.map(() => null);
  }

  protected async closeEnvs(): Promise<void> {}
}

describe('BaseVectorEnv subclass hook', () => {
  it('hands each step to stepAndResetEnvs once, with the envs to step and to reset', async () => {
    const venv = new BatchedToyVectorEnv(3, 'next-step');
    await venv.reset({ options: { start: 0 } });
    await venv.step([2, 2, 1]);
    const s = await venv.step([2, 1, 1]);
    expect(Array.from(s.terminated)).toEqual([1, 0, 0]);
    const after = await venv.step([2, 2, 2]);
    expect(after.rewards[0]).toBe(0);
    expect(after.terminated[1]).toBe(1);
    expect(venv.batches).toEqual([
      { stepped: [0, 1, 2], reset: [] },
      { stepped: [0, 1, 2], reset: [] },
      { stepped: [1, 2], reset: [0] },
    ]);
  });
});
