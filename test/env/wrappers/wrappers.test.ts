import { Box } from '../../../src/env/spaces';
import {
  OrderEnforcing,
  RecordEpisodeStatistics,
  ResetNeededError,
  TimeLimit,
  TransformObservation,
  TransformReward,
  Wrapper,
} from '../../../src/env/wrappers';
import { ToyEnv } from '../fixtures/toy-env';

describe('Wrapper', () => {
  it('forwards spaces, reset, step, render and close, and reaches the innermost env', async () => {
    const inner = new ToyEnv({ renderable: true });
    const w = new Wrapper(new Wrapper(inner));
    expect(w.observationSpace).toBe(inner.observationSpace);
    expect(w.actionSpace).toBe(inner.actionSpace);
    expect(w.unwrapped).toBe(inner);
    const r = await w.reset({ seed: 1, options: { start: 2 } });
    expect(r.info.start).toBe(2);
    const s = await w.step(2);
    expect(s.info.pos).toBe(3);
    expect((await w.render())?.data[9]).toBe(255);
    await w.close();
    expect(inner.closed).toBe(true);
    expect(w.getWrapperAttr('size')).toBe(5);
    expect(() => w.getWrapperAttr('nope')).toThrow(/'nope'/);
    expect(w.toString()).toBe('Wrapper<Wrapper<ToyEnv>>');
    expect(() => new Wrapper({} as never)).toThrow(/expected an Env/);
  });
});

describe('TimeLimit', () => {
  it('truncates at the limit and resets the count on reset', async () => {
    const env = new TimeLimit(new ToyEnv({ size: 10 }), 3);
    await env.reset({ options: { start: 0 } });
    const flags = [];
    for (let i = 0; i < 3; i++) flags.push((await env.step(1)).truncated);
    expect(flags).toEqual([false, false, true]);
    await env.reset({ options: { start: 0 } });
    expect(env.elapsedSteps).toBe(0);
    expect((await env.step(1)).truncated).toBe(false);
    expect(() => new TimeLimit(new ToyEnv(), 0)).toThrow(/positive integer/);
  });

  it('passes terminated through, together with truncated on the same step', async () => {
    const env = new TimeLimit(new ToyEnv({ size: 3 }), 2);
    await env.reset({ options: { start: 0 } });
    const a = await env.step(2);
    expect([a.terminated, a.truncated]).toEqual([false, false]);
    const b = await env.step(2);
    expect([b.terminated, b.truncated]).toEqual([true, true]);
  });
});

describe('OrderEnforcing', () => {
  it('rejects step and render before reset', async () => {
    const env = new OrderEnforcing(new ToyEnv({ renderable: true }));
    await expect(env.step(1)).rejects.toBeInstanceOf(ResetNeededError);
    await expect(env.render()).rejects.toThrow(/render\(\) before calling env.reset/);
    await env.reset();
    expect(env.hasBeenReset).toBe(true);
    await expect(env.step(1)).resolves.toBeDefined();
    const lax = new OrderEnforcing(new ToyEnv({ renderable: true }), { disableRenderOrderEnforcing: true });
    await expect(lax.render()).resolves.not.toBeNull();
  });
});

describe('RecordEpisodeStatistics', () => {
  it('reports return, length and time at episode end only, and keeps queues', async () => {
    const env = new RecordEpisodeStatistics(new ToyEnv({ size: 4 }), { bufferLength: 2 });
    const returns: number[] = [];
    for (let ep = 0; ep < 3; ep++) {
      await env.reset({ options: { start: ep } });
      let ret = 0;
      let len = 0;
      for (;;) {
        const s = await env.step(2);
        ret += s.reward;
        len += 1;
        if (s.terminated || s.truncated) {
          const stats = s.info.episode as { r: number; l: number; t: number };
          expect(stats.r).toBeCloseTo(ret, 10);
          expect(stats.l).toBe(len);
          expect(stats.l).toBe(3 - ep);
          expect(stats.t).toBeGreaterThanOrEqual(0);
          returns.push(ret);
          break;
        }
        expect(s.info.episode).toBeUndefined();
      }
    }
    expect(env.episodeCount).toBe(3);
    expect(env.lengthQueue).toEqual([2, 1]);
    expect(env.returnQueue[1]).toBeCloseTo(returns[2], 10);
    // 'creation' times are non-decreasing across episodes
    expect(env.timeQueue[1]).toBeGreaterThanOrEqual(env.timeQueue[0]);
  });

  it("measures episode duration with timeOrigin 'episode'", async () => {
    const env = new RecordEpisodeStatistics(new ToyEnv({ size: 3 }), { timeOrigin: 'episode' });
    await new Promise((r) => setTimeout(r, 200));
    await env.reset({ options: { start: 1 } });
    const s = await env.step(2);
    expect((s.info.episode as { t: number }).t).toBeLessThan(0.15);
    const created = new RecordEpisodeStatistics(new ToyEnv({ size: 3 }));
    await new Promise((r) => setTimeout(r, 200));
    await created.reset({ options: { start: 1 } });
    const c = await created.step(2);
    expect((c.info.episode as { t: number }).t).toBeGreaterThanOrEqual(0.19);
  });
});

describe('TransformObservation and TransformReward', () => {
  it('maps observations, with an optional new space', async () => {
    const space = new Box(0, 10, [1]);
    const env = new TransformObservation(
      new ToyEnv({ size: 5 }),
      (o) => new Float32Array([o.position.indexOf(1)]),
      space,
    );
    expect(env.observationSpace).toBe(space);
    const r = await env.reset({ options: { start: 2 } });
    expect(Array.from(r.observation)).toEqual([2]);
    const s = await env.step(2);
    expect(Array.from(s.observation)).toEqual([3]);
    const same = new TransformObservation(new ToyEnv(), (o) => o);
    expect(same.observationSpace).toBe(same.unwrapped.observationSpace);
  });

  it('maps rewards', async () => {
    const env = new TransformReward(new ToyEnv({ size: 5 }), (r) => r * 10);
    await env.reset({ options: { start: 0 } });
    expect((await env.step(1)).reward).toBeCloseTo(-1, 6);
  });
});
