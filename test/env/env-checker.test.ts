import { checkEnv, EnvCheckError } from '../../src/env/env-checker';
import { TensorRefSpace } from '../../src/env/spaces';
import type { RgbImage, StepResult } from '../../src/env/types';
import { RecordEpisodeStatistics, TimeLimit } from '../../src/env/wrappers';
import { ToyEnv, ToyObs } from './fixtures/toy-env';

async function failuresOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EnvCheckError) return e.failures;
    throw e;
  }
  throw new Error('checkEnv passed but was expected to fail');
}

describe('checkEnv', () => {
  it('passes a correct env, bare and wrapped, and closes it', async () => {
    const env = new ToyEnv({ renderable: true });
    await expect(checkEnv(env)).resolves.toEqual({ warnings: [] });
    expect(env.closed).toBe(true);
    await expect(
      checkEnv(new RecordEpisodeStatistics(new TimeLimit(new ToyEnv(), 4)), { steps: 20 }),
    ).resolves.toBeDefined();
  });

  it('catches a reset that ignores its seed', async () => {
    class Unseeded extends ToyEnv {
      private calls = 0;
      override async reset() {
        this.calls += 1;
        return super.reset({ options: { start: this.calls % 4 } });
      }
    }
    const f = await failuresOf(checkEnv(new Unseeded()));
    expect(f.join('\n')).toMatch(
      /reset with the same seed gave different observations \(first difference at observation\.ref/,
    );
  });

  it('catches observations outside the space and bad step fields, listing all of them', async () => {
    class Bad extends ToyEnv {
      override async step(a: number): Promise<StepResult<ToyObs>> {
        const r = await super.step(a);
        return {
          ...r,
          observation: { ...r.observation, position: new Float32Array(2) },
          reward: NaN,
          terminated: 0 as unknown as boolean,
        };
      }
    }
    const f = await failuresOf(checkEnv(new Bad()));
    expect(f).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/step 0: observation is not in observationSpace: key 'position'/),
        expect.stringMatching(/step 0: reward must be a finite number, got NaN/),
        expect.stringMatching(/step 0: terminated must be a boolean/),
      ]),
    );
  });

  it('catches a reset result of the wrong form and a non-Space space', async () => {
    class NoInfo extends ToyEnv {
      override async reset() {
        const r = await super.reset();
        return { observation: r.observation } as never;
      }
    }
    expect((await failuresOf(checkEnv(new NoInfo()))).join()).toMatch(/reset\(\) must return \{observation, info\}/);
    const env = new ToyEnv();
    Object.defineProperty(env, 'actionSpace', { value: { sample: () => 0 } });
    expect(await failuresOf(checkEnv(env))).toEqual(['actionSpace is not a Space']);
  });

  it('catches a nondeterministic step', async () => {
    let noise = 0;
    class Noisy extends ToyEnv {
      override async step(a: number) {
        const r = await super.step(a);
        return { ...r, reward: r.reward + (noise++ % 7) * 0.01 };
      }
    }
    expect((await failuresOf(checkEnv(new Noisy()))).join()).toMatch(/step is not deterministic/);
  });

  it('reports step errors and bad renders', async () => {
    const f = await failuresOf(checkEnv(new ToyEnv({ failAfterSteps: 3 })));
    expect(f.join()).toMatch(/rollout 1: step\(\d\) at step 3 threw: ToyEnv deliberately failed/);
    class BadRender extends ToyEnv {
      override async render(): Promise<RgbImage | null> {
        return { width: 2, height: 2, data: new Uint8Array(5) };
      }
    }
    expect(await failuresOf(checkEnv(new BadRender()))).toEqual(['render(): data has 5 bytes, 2x2x3 needs 12']);
    await expect(checkEnv(new BadRender(), { skipRenderCheck: true })).resolves.toBeDefined();
  });

  it('warns when the env reuses observation buffers, and samples with the action mask', async () => {
    const seen: number[] = [];
    class Reusing extends ToyEnv {
      private buf = new Float32Array(this.size);
      override async reset(o?: { seed?: number }) {
        const r = await super.reset(o);
        this.buf.set(r.observation.position);
        return { ...r, observation: { ...r.observation, position: this.buf } };
      }
      override async step(a: number) {
        seen.push(a);
        if (a === 0 && this.pos === 0) throw new Error('masked action taken');
        return super.step(a);
      }
    }
    const report = await checkEnv(new Reusing({ size: 3 }), { steps: 30 });
    expect(report.warnings.join()).toMatch(/reuses its buffers/);
    expect(new Set(seen).size).toBeGreaterThan(1);
  });

  it('accepts a TensorRefSpace whose references resolve only through a store', async () => {
    const store = new Set(['cell-0', 'cell-1', 'cell-2']);
    class Stored extends ToyEnv {
      constructor() {
        super({ size: 3 });
        (this.observationSpace.spaces as { ref: TensorRefSpace }).ref = new TensorRefSpace([2, 2], {
          isValid: (r) => store.has(r.key),
        });
      }
    }
    await expect(checkEnv(new Stored())).resolves.toBeDefined();
    store.delete('cell-2'); // the goal cell, reached within 40 steps
    expect((await failuresOf(checkEnv(new Stored(), { steps: 40 }))).join()).toMatch(/key 'ref'/);
  });
});
