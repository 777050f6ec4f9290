/** Messages between AsyncVectorEnv (main thread) and its workers (`async-worker.ts`). */
import type { SpaceJSON } from '../spaces/space';

/** How a worker builds its env: closures cannot cross threads, so an env is named by module + export. */
export interface WorkerEnvSpec {
  /**
   * Path of a module (.js, or .ts when ts-node is installed) exporting an env factory
   * `(options, context: {envIndex}) => Env | Promise<Env>`. Relative paths resolve against the
   * main thread's working directory.
   */
  modulePath: string;
  /** Name of the factory export. Default 'default'. */
  exportName?: string;
  /** JSON-serialisable options for the factory. */
  options?: unknown;
}

export type WorkerCommand =
  | { cmd: 'init'; spec: WorkerEnvSpec; envIndex: number }
  | { cmd: 'reset'; opts: unknown }
  | { cmd: 'step'; action: unknown }
  | { cmd: 'render' }
  | { cmd: 'call'; method: string; args: unknown[] }
  | { cmd: 'close' };

export type WorkerRequest = WorkerCommand & { id: number };

export interface WorkerInitResult {
  observationSpace: SpaceJSON;
  actionSpace: SpaceJSON;
}

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };
