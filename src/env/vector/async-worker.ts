/**
 * The worker side of AsyncVectorEnv: builds one env from a module path, export name and JSON
 * options, then serves reset/step/render/call/close requests. Results travel by structured clone
 * (typed arrays are copied, never transferred, because an env may reuse its buffers).
 */
import { parentPort } from 'worker_threads';
import type { Env } from '../types';
import type { WorkerInitResult, WorkerRequest, WorkerResponse } from './worker-protocol';

let env: Env<unknown, unknown> | null = null;

function requireEnv(): Env<unknown, unknown> {
  if (env === null) throw new Error('the env is not built yet (init failed or was not sent)');
  return env;
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'init': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(req.spec.modulePath) as Record<string, unknown>;
      const name = req.spec.exportName ?? 'default';
      const factory = mod[name];
      if (typeof factory !== 'function') {
        throw new Error(
          `${req.spec.modulePath} has no function export '${name}' (exports: ${Object.keys(mod).join(', ') || 'none'})`,
        );
      }
      env = (await factory(req.spec.options, { envIndex: req.envIndex })) as Env<unknown, unknown>;
      if (env === null || typeof env !== 'object' || typeof env.step !== 'function') {
        throw new Error(`${req.spec.modulePath}#${name} did not return an Env`);
      }
      const result: WorkerInitResult = {
        observationSpace: env.observationSpace.toJSON(),
        actionSpace: env.actionSpace.toJSON(),
      };
      return result;
    }
    case 'reset':
      return requireEnv().reset(req.opts as never);
    case 'step':
      return requireEnv().step(req.action);
    case 'render':
      return requireEnv().render();
    case 'call': {
      const target = requireEnv() as unknown as Record<string, unknown>;
      const fn = target[req.method];
      if (typeof fn !== 'function') throw new Error(`the env has no method '${req.method}'`);
      return await (fn as (...a: unknown[]) => unknown).apply(target, req.args);
    }
    case 'close': {
      const e = env;
      env = null;
      if (e) await e.close();
      return null;
    }
  }
}

function send(msg: WorkerResponse): void {
  try {
    parentPort!.postMessage(msg);
  } catch (e) {
    // The result held something structured clone cannot copy (a function, a tensor handle...).
    parentPort!.postMessage({
      id: msg.id,
      ok: false,
      error: {
        name: 'DataCloneError',
        message: `the result could not be sent to the main thread: ${(e as Error).message}`,
      },
    } satisfies WorkerResponse);
  }
}

if (!parentPort) throw new Error('async-worker must run in a worker thread');
parentPort.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (result) => send({ id: req.id, ok: true, result }),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      send({ id: req.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack } });
    },
  );
});
