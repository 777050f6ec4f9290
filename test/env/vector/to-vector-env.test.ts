import type { Env } from '../../../src/env/types';
import { finalObservationOf, SyncVectorEnv, toVectorEnv } from '../../../src/env/vector';
import { ToyEnv, ToyObs } from '../fixtures/toy-env';

const posOf = (o: ToyObs) => o.position.indexOf(1);

describe('toVectorEnv', () => {
  it('steps one env or a list of envs in this thread, autoresetting in the mode asked for', async () => {
    const list = [new ToyEnv({ size: 3, tag: 0 }), new ToyEnv({ size: 3, tag: 1 })];
    const venv = toVectorEnv<ToyObs, number>(list, 'same-step');
    expect(venv).toBeInstanceOf(SyncVectorEnv);
    expect(venv.numEnvs).toBe(2);
    expect(venv.autoresetMode).toBe('same-step');
    expect(venv.singleActionSpace.equals(list[0].actionSpace)).toBe(true);
    const r = await venv.reset({ seed: 4, options: { start: 1 } });
    expect(r.infos.map((i) => i.tag)).toEqual([0, 1]);
    const s = await venv.step([2, 1]);
    expect(Array.from(s.terminated)).toEqual([1, 0]);
    expect(posOf(finalObservationOf<ToyObs>(s.infos[0], 'env 0'))).toBe(2);
    expect(() => finalObservationOf(s.infos[1], 'env 1')).toThrow(/env 1: .*no 'final_observation'.*same-step/);
    const one = toVectorEnv<ToyObs, number>(new ToyEnv({ size: 3 }), 'next-step');
    expect(one.numEnvs).toBe(1);
    expect(one.autoresetMode).toBe('next-step');
    await venv.close();
    await one.close();
  });

  it('passes a vector env through only when it autoresets in that mode', () => {
    const venv = new SyncVectorEnv([() => new ToyEnv({ size: 3 })], { autoresetMode: 'next-step' });
    expect(toVectorEnv(venv, 'next-step')).toBe(venv);
    expect(() => toVectorEnv(venv, 'same-step', 'the agent')).toThrow(
      "the agent needs a vector env with autoresetMode 'same-step', got 'next-step'",
    );
  });

  it('rejects what is neither an env nor a vector env', () => {
    expect(() => toVectorEnv([], 'same-step')).toThrow(/expects an env, a non-empty array of envs, or a vector env/);
    expect(() => toVectorEnv([{} as Env], 'same-step')).toThrow(/expects an env/);
  });
});
