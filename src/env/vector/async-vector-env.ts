import * as path from 'path';
import { Worker, ResourceLimits } from 'worker_threads';
import type { Space } from '../spaces/space';
import { spaceFromJSON } from '../spaces/from-json';
import type { ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { BaseVectorEnv } from './base-vector-env';
import { AutoresetMode, VectorEnvError } from './types';
import { startWorkerScript } from '../../utils/start-worker';
import type { WorkerCommand, WorkerEnvSpec, WorkerInitResult, WorkerResponse } from './worker-protocol';

export interface AsyncVectorEnvOptions<Obs, Act> {
  autoresetMode?: AutoresetMode;
  /**
   * The spaces to expose. By default they are rebuilt in this thread from the workers' JSON, which
   * loses custom predicates (e.g. TensorRefSpace `isValid`) and cannot rebuild a CustomSpace that
   * was not registered; pass the real spaces to keep them.
   */
  observationSpace?: Space<Obs>;
  actionSpace?: Space<Act>;
  resourceLimits?: ResourceLimits;
  /** How long close() waits for each env's close before terminating its worker. Default 10 s. */
  closeTimeoutMs?: number;
}

const TS_EXT = /\.(ts|mts|cts)$/;

/** Starts the worker script, registering ts-node first when this code or the env module is TypeScript. */
function startWorker(spec: WorkerEnvSpec, resourceLimits?: ResourceLimits): Worker {
  return startWorkerScript(__filename, 'async-worker', { needsTsNode: TS_EXT.test(spec.modulePath), resourceLimits });
}

/** One worker hosting one env; requests to it are served one at a time. */
class WorkerHandle {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; cmd: string }
  >();
  private failure: Error | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private exited = false;

  constructor(
    readonly envIndex: number,
    private readonly worker: Worker,
  ) {
    worker.unref();
    worker.on('message', (msg: WorkerResponse) => this.onMessage(msg));
    worker.on('error', (e) => this.fail(new VectorEnvError(envIndex, 'worker', e)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new VectorEnvError(envIndex, 'worker', new Error(`worker exited with code ${code}`)));
    });
  }

  private onMessage(msg: WorkerResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    this.updateRef();
    if (msg.ok) {
      p.resolve(msg.result);
    } else {
      const cause = new Error(msg.error.message);
      cause.name = msg.error.name;
      if (msg.error.stack) cause.stack = msg.error.stack;
      p.reject(new VectorEnvError(this.envIndex, p.cmd, cause));
    }
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.updateRef();
  }

  /** Keep the process alive only while a request is outstanding, so a forgotten close() cannot hang it. */
  private updateRef(): void {
    if (this.exited) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  request<T>(command: WorkerCommand): Promise<T> {
    const run = (): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        const id = this.nextId++;
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cmd: command.cmd });
        this.updateRef();
        try {
          this.worker.postMessage({ ...command, id });
        } catch (e) {
          this.pending.delete(id);
          this.updateRef();
          reject(new VectorEnvError(this.envIndex, command.cmd, e));
        }
      });
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  async terminate(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }
}

/**
 * Runs each env in its own worker thread (Gymnasium's AsyncVectorEnv), so envs step in parallel on
 * several cores; tfjs's wasm backend is single-threaded in Node, so workers are how envs use a
 * second core. Each env is built INSIDE its worker by `spec.modulePath`'s `spec.exportName` factory
 * called with `spec.options` (JSON) and `{envIndex}`: functions and closures cannot cross threads.
 * Everything an env returns is copied to this thread by structured clone (typed arrays included;
 * class instances arrive as plain objects, functions cannot be sent). Errors come back as
 * VectorEnvError with the env's index and the worker's stack as `cause`.
 *
 * Build with `await AsyncVectorEnv.create(specs, options)`; always `close()` it (idle workers do not
 * keep the process alive, but they hold memory).
 */
export class AsyncVectorEnv<Obs = unknown, Act = unknown> extends BaseVectorEnv<Obs, Act> {
  private constructor(
    private readonly workers: WorkerHandle[],
    observationSpace: Space<Obs>,
    actionSpace: Space<Act>,
    private readonly options: AsyncVectorEnvOptions<Obs, Act>,
  ) {
    super(workers.length, observationSpace, actionSpace, options.autoresetMode);
  }

  static async create<Obs = unknown, Act = unknown>(
    specs: readonly WorkerEnvSpec[],
    options: AsyncVectorEnvOptions<Obs, Act> = {},
  ): Promise<AsyncVectorEnv<Obs, Act>> {
    if (!Array.isArray(specs) || specs.length === 0) throw new Error('AsyncVectorEnv: needs at least one env spec');
    const resolved = specs.map((s, i) => {
      if (!s || typeof s.modulePath !== 'string') throw new Error(`AsyncVectorEnv: spec ${i} has no modulePath`);
      return { ...s, modulePath: path.resolve(s.modulePath) };
    });
    const handles: WorkerHandle[] = [];
    try {
      for (let i = 0; i < resolved.length; i++)
        handles.push(new WorkerHandle(i, startWorker(resolved[i], options.resourceLimits)));
      const inits = await Promise.all(
        handles.map((h, i) => h.request<WorkerInitResult>({ cmd: 'init', spec: resolved[i], envIndex: i })),
      );
      const obsJSON = JSON.stringify(inits[0].observationSpace);
      const actJSON = JSON.stringify(inits[0].actionSpace);
      inits.forEach((init, i) => {
        if (JSON.stringify(init.observationSpace) !== obsJSON) {
          throw new Error(
            `AsyncVectorEnv: env ${i} has observation space ${JSON.stringify(init.observationSpace)}, env 0 has ${obsJSON}`,
          );
        }
        if (JSON.stringify(init.actionSpace) !== actJSON) {
          throw new Error(
            `AsyncVectorEnv: env ${i} has action space ${JSON.stringify(init.actionSpace)}, env 0 has ${actJSON}`,
          );
        }
      });
      const obsSpace = options.observationSpace ?? (spaceFromJSON(inits[0].observationSpace) as Space<Obs>);
      const actSpace = options.actionSpace ?? (spaceFromJSON(inits[0].actionSpace) as Space<Act>);
      return new AsyncVectorEnv<Obs, Act>(handles, obsSpace, actSpace, options);
    } catch (e) {
      await Promise.all(handles.map((h) => h.terminate()));
      throw e;
    }
  }

  protected resetEnvs(indices: readonly number[], options: readonly ResetOptions[]): Promise<ResetResult<Obs>[]> {
    return Promise.all(
      indices.map((i, k) => this.workers[i].request<ResetResult<Obs>>({ cmd: 'reset', opts: options[k] })),
    );
  }

  protected stepEnvs(indices: readonly number[], actions: readonly Act[]): Promise<StepResult<Obs>[]> {
    return Promise.all(
      indices.map((i, k) => this.workers[i].request<StepResult<Obs>>({ cmd: 'step', action: actions[k] })),
    );
  }

  async render(): Promise<(RgbImage | null)[]> {
    this.assertOpen('render');
    return Promise.all(this.workers.map((w) => w.request<RgbImage | null>({ cmd: 'render' })));
  }

  /** Call a method of every env (in its worker) with JSON/structured-clone arguments; results per env. */
  async call<T = unknown>(method: string, ...args: unknown[]): Promise<T[]> {
    this.assertOpen('call');
    return Promise.all(this.workers.map((w) => w.request<T>({ cmd: 'call', method, args })));
  }

  protected async closeEnvs(): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? 10000;
    const results = await Promise.allSettled(
      this.workers.map((w) =>
        Promise.race([
          w.request({ cmd: 'close' }),
          new Promise((_, reject) => {
            const t = setTimeout(
              () => reject(new VectorEnvError(w.envIndex, 'close', new Error(`timed out after ${timeoutMs} ms`))),
              timeoutMs,
            );
            t.unref();
          }),
        ]),
      ),
    );
    await Promise.all(this.workers.map((w) => w.terminate()));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }
}
