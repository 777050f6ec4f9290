import * as path from 'path';
import { deepEqual, isTypedArrayOf } from '../../../src/env/spaces';
import { AsyncVectorEnv, SyncVectorEnv, VectorEnvError, WorkerEnvSpec } from '../../../src/env/vector';
import { ToyEnv, ToyObs, ToyOptions } from '../fixtures/toy-env';

const MODULE = path.join(__dirname, '..', 'fixtures', 'toy-env.ts');
const spec = (options: ToyOptions): WorkerEnvSpec => ({ modulePath: MODULE, exportName: 'makeToyEnv', options });

describe('AsyncVectorEnv', () => {
  it.each(['next-step', 'same-step'] as const)(
    'replays the SyncVectorEnv trajectory exactly (%s autoreset)',
    async (mode) => {
      const options = [0, 1].map((tag) => ({ size: 4, tag }));
      const asyncEnv = await AsyncVectorEnv.create<ToyObs, number>(options.map(spec), { autoresetMode: mode });
      const syncEnv = new SyncVectorEnv(
        options.map((o) => () => new ToyEnv(o)),
        { autoresetMode: mode },
      );
      try {
        expect(asyncEnv.singleObservationSpace.equals(syncEnv.singleObservationSpace)).toBe(true);
        expect(asyncEnv.singleActionSpace.equals(syncEnv.singleActionSpace)).toBe(true);
        const a0 = await asyncEnv.reset({ seed: 3 });
        const s0 = await syncEnv.reset({ seed: 3 });
        expect(deepEqual(a0, s0)).toBe(true);
        const space = syncEnv.singleActionSpace;
        space.seed(1);
        let episodesEnded = 0;
        for (let t = 0; t < 30; t++) {
          const actions = [0, 1].map(() => space.sample());
          const a = await asyncEnv.step(actions);
          const s = await syncEnv.step(actions);
          expect(deepEqual(a, s)).toBe(true);
          expect(isTypedArrayOf(a.observations[0].position, 'Float32Array')).toBe(true);
          expect(asyncEnv.singleObservationSpace.contains(a.observations[1])).toBe(true);
          episodesEnded += a.terminated.reduce((x, y) => x + y, 0);
        }
        expect(episodesEnded).toBeGreaterThan(1); // autoreset was exercised
      } finally {
        await asyncEnv.close();
      }
    },
  );

  it('propagates an env error with its index and the worker stack', async () => {
    const venv = await AsyncVectorEnv.create([spec({}), spec({ failAfterSteps: 0 })]);
    try {
      await venv.reset();
      const err = await venv.step([1, 1]).catch((e) => e);
      expect(err).toBeInstanceOf(VectorEnvError);
      expect(err.envIndex).toBe(1);
      expect(err.message).toMatch(/^env 1: step failed: ToyEnv deliberately failed at step 1/);
      expect((err.cause as Error).stack).toMatch(/toy-env/);
      // env 0 is still alive
      expect(await venv.call('describe', 'x')).toHaveLength(2);
    } finally {
      await venv.close();
    }
  });

  it('reports a worker that dies, on that step and every later one', async () => {
    const venv = await AsyncVectorEnv.create([spec({ exitAfterSteps: 0 })]);
    try {
      await venv.reset();
      await expect(venv.step([1])).rejects.toThrow(/^env 0: worker failed: worker exited with code 7/);
      await expect(venv.step([1])).rejects.toThrow(/^env 0: worker failed: worker exited with code 7/);
    } finally {
      await venv.close().catch(() => undefined);
    }
  });

  it('explains a bad module or export, and calls env methods', async () => {
    await expect(AsyncVectorEnv.create([{ modulePath: MODULE, exportName: 'nope' }])).rejects.toThrow(
      /env 0: init failed: .*toy-env\.ts has no function export 'nope' \(exports: .*makeToyEnv/,
    );
    await expect(AsyncVectorEnv.create([{ modulePath: '/no/such/env.js' }])).rejects.toThrow(
      /env 0: init failed: Cannot find module/,
    );
    const venv = await AsyncVectorEnv.create([
      spec({ tag: 4, renderable: true }),
      spec({ tag: 5, unsendableInfo: true }),
    ]);
    await venv.reset({ options: { start: 2 } });
    expect(await venv.call('describe', 'p')).toEqual(['p:4:2', 'p:5:2']);
    const imgs = await venv.render();
    expect(isTypedArrayOf(imgs[0]?.data, 'Uint8Array')).toBe(true);
    expect(imgs[1]).toBeNull();
    await expect(venv.step([1, 1])).rejects.toThrow(
      /^env 1: step failed: the result could not be sent to the main thread/,
    );
    await expect(venv.call('missing')).rejects.toThrow(/no method 'missing'/);
    await venv.close();
    await expect(venv.step([1, 1])).rejects.toThrow(/after close/);
  });
});
