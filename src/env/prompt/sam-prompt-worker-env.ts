/**
 * Prompting envs sharded over worker threads, each running a SAM-batched vector env: the wasm
 * backend is single-threaded in Node, so workers are how a second core gets used. Workers compute
 * embeddings into a shared disk cache; this thread resolves observation keys through its own
 * `EmbeddingCache` on the same folder (one read per image). Autoreset is same-step, with
 * `final_observation` in the infos, as the trainers expect.
 *
 * Clicks labelled by the semantic recalibration module are labelled HERE (one batched call), and
 * the labels are sent with the actions.
 */
import type { Worker } from 'worker_threads';
import type { EmbeddingCache } from '../../sam/embedding-cache';
import type { ImageEmbedding } from '../../sam/image-embedding';
import { parseOptions, s } from '../../schema/schema';
import { Discrete } from '../spaces/discrete';
import type { Space } from '../spaces/space';
import type { Info, RgbImage } from '../types';
import { startWorkerScript } from '../../utils/start-worker';
import {
  VectorEnvError,
  type VectorEnv,
  type VectorResetOptions,
  type VectorResetResult,
  type VectorStepResult,
} from '../vector/types';
import { ActionGrid } from './action-grid';
import type { ClickLabeler } from './labeler';
import { PromptObservation, promptObservationSpace } from './observation';
import { type PromptEnvSettings, promptVectorEnvSettings, resolvePromptEnvSettings } from './prompt-env-options';
import type { PromptEnvState } from './prompt-env-state';
import type {
  SerializedObservation,
  SerializedRestore,
  SerializedStep,
  WorkerPromptEnvConfig,
  WorkerReply,
  WorkerRequest,
} from './worker-messages';

export interface SamPromptWorkerVectorEnvOptions {
  numEnvs: number;
  numWorkers?: number;
  env: WorkerPromptEnvConfig;
  /** This thread's cache on `env.cacheDir` (its model must be the workers' SAM). */
  embeddings: EmbeddingCache;
  /** Needed when `env.labelSource` is 'recalibration'. */
  labeler?: ClickLabeler;
  textVector?: (name: string) => Float32Array;
  textDim?: number;
  seed?: number;
}

const countsSchema = s.object(promptVectorEnvSettings);

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

class WorkerLink {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {
    worker.on('message', (msg: WorkerReply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`env worker ${index}: ${msg.error}`));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`env worker ${index} exited with code ${code}`)));
  }

  request<T>(req: WithoutId<WorkerRequest>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

export class SamPromptWorkerVectorEnv implements VectorEnv<PromptObservation, number> {
  readonly autoresetMode = 'same-step' as const;
  readonly singleObservationSpace: Space<PromptObservation>;
  readonly singleActionSpace: Discrete;
  /** Pinned embedding per env (the one its current observation references). */
  private readonly held: (ImageEmbedding | null)[];
  private current: PromptObservation[] = [];
  private closed = false;

  private readonly grid: ActionGrid;

  private constructor(
    readonly numEnvs: number,
    private readonly links: WorkerLink[],
    private readonly shares: number[],
    private readonly options: SamPromptWorkerVectorEnvOptions,
    settings: PromptEnvSettings,
  ) {
    const grid = new ActionGrid(settings.gridSize, settings.labelSource);
    this.grid = grid;
    const model = options.embeddings.model;
    this.singleActionSpace = new Discrete(grid.numActions);
    this.singleObservationSpace = promptObservationSpace({
      embeddingGrid: model.gridSize,
      embeddingChannels: model.config.maskDecoder.transformerDim,
      gridSize: grid.gridSize,
      numActions: grid.numActions,
      textDim: options.textDim ?? 0,
    });
    this.held = new Array(numEnvs).fill(null);
  }

  static async create(options: SamPromptWorkerVectorEnvOptions): Promise<SamPromptWorkerVectorEnv> {
    const counts = parseOptions('SamPromptWorkerVectorEnv', countsSchema, {
      numEnvs: options.numEnvs,
      numWorkers: options.numWorkers,
    });
    const numWorkers = Math.min(counts.numWorkers, counts.numEnvs);
    const needsLabeler = options.env as { initialPrompts?: string; observeLabeler?: boolean };
    if (needsLabeler.initialPrompts === 'labeler' || needsLabeler.observeLabeler) {
      throw new Error(
        `SamPromptWorkerVectorEnv: ${needsLabeler.observeLabeler ? 'observeLabeler' : "initialPrompts 'labeler'"} needs the labeler in the workers, which run none; use SamPromptVectorEnv`,
      );
    }
    const settings = resolvePromptEnvSettings(options.env, 'SamPromptWorkerVectorEnv');
    if (settings.labelSource === 'recalibration' && !options.labeler)
      throw new Error("SamPromptWorkerVectorEnv: labelSource 'recalibration' needs a labeler on the main thread");
    const shares = Array.from(
      { length: numWorkers },
      (_, w) => Math.floor(options.numEnvs / numWorkers) + (w < options.numEnvs % numWorkers ? 1 : 0),
    );
    const links = shares.map((_, w) => new WorkerLink(w, startWorkerScript(__filename, 'sam-prompt-worker')));
    const env = new SamPromptWorkerVectorEnv(options.numEnvs, links, shares, options, settings);
    try {
      let offset = 0;
      await Promise.all(
        links.map((l, w) => {
          const seed = (options.seed ?? 0) + offset;
          offset += shares[w];
          return l.request({ cmd: 'init', config: options.env, numEnvs: shares[w], seed });
        }),
      );
    } catch (err) {
      await env.close();
      throw err;
    }
    return env;
  }

  async reset(opts: VectorResetOptions = {}): Promise<VectorResetResult<PromptObservation>> {
    this.assertOpen('reset');
    if (Array.isArray(opts.seed))
      throw new Error('SamPromptWorkerVectorEnv.reset: pass one seed (env i gets seed + i)');
    let offset = 0;
    const parts = await Promise.all(
      this.links.map((l, w) => {
        const seed = typeof opts.seed === 'number' ? opts.seed + offset : undefined;
        offset += this.shares[w];
        return l.request<{ observations: SerializedObservation[]; infos: Info[] }>({ cmd: 'reset', seed });
      }),
    );
    const serialized = parts.flatMap((p) => p.observations);
    const infos = parts.flatMap((p) => p.infos);
    this.current = await this.resolveAll(serialized, infos);
    return { observations: this.current, infos };
  }

  async step(actionsIn: ArrayLike<number>): Promise<VectorStepResult<PromptObservation>> {
    this.assertOpen('step');
    // Agents may pass a typed array; slicing and mapping need a plain one.
    const actions = Array.from(actionsIn);
    if (actions.length !== this.numEnvs) throw new Error(`step needs ${this.numEnvs} actions, got ${actions.length}`);
    if (this.current.length !== this.numEnvs) throw new Error('SamPromptWorkerVectorEnv: call reset() before step()');
    // Every action is checked here, before any worker steps its envs: a worker that refused one
    // would leave the other workers' envs a click ahead.
    actions.forEach((a, i) => {
      const why = !this.singleActionSpace.contains(a)
        ? `action ${a} must be an integer in [0, ${this.singleActionSpace.n})`
        : this.current[i].actionMask[a] !== 1
          ? `action ${a}: its cell was already clicked (see observation.actionMask)`
          : null;
      if (why) throw new VectorEnvError(i, 'step', new Error(`${why}; no env was stepped`));
    });
    let labels: (0 | 1)[] | null = null;
    if (this.grid.labelSource === 'recalibration') {
      labels = await this.options.labeler!.labelClicks(
        actions.map((a, i) => ({ observation: this.current[i], cell: this.grid.decode(a).cell })),
      );
      if (!Array.isArray(labels) || labels.length !== this.numEnvs || labels.some((l) => l !== 0 && l !== 1)) {
        throw new Error(
          `labeler: labelClicks must return ${this.numEnvs} labels of 0 or 1, got ${JSON.stringify(labels)?.slice(0, 60)}; no env was stepped`,
        );
      }
    }
    let offset = 0;
    const parts = await Promise.all(
      this.links.map((l, w) => {
        const from = offset;
        offset += this.shares[w];
        return l.request<SerializedStep>({
          cmd: 'step',
          actions: actions.slice(from, offset),
          labels: labels ? labels.slice(from, offset) : null,
        });
      }),
    );
    const infos = parts.flatMap((p) => p.infos);
    // Final observations still reference the finished episodes' embeddings: resolve them before
    // the new observations move the pins.
    const finals = await Promise.all(
      infos.map(async (info, i) =>
        info.final_observation
          ? this.resolve(info.final_observation as SerializedObservation, info.target_name as string | null, i, false)
          : null,
      ),
    );
    finals.forEach((f, i) => {
      if (f) infos[i] = { ...infos[i], final_observation: f };
    });
    this.current = await this.resolveAll(
      parts.flatMap((p) => p.observations),
      infos,
    );
    const cat = <T extends Float32Array | Uint8Array>(
      key: 'rewards' | 'terminated' | 'truncated',
      make: (n: number) => T,
    ): T => {
      const out = make(this.numEnvs);
      let k = 0;
      for (const p of parts) for (const v of p[key]) out[k++] = v;
      return out;
    };
    return {
      observations: this.current,
      rewards: cat('rewards', (n) => new Float32Array(n)),
      terminated: cat('terminated', (n) => new Uint8Array(n)),
      truncated: cat('truncated', (n) => new Uint8Array(n)),
      infos,
    };
  }

  /** Every env's state, in env order (see SamPromptEnv.getState), for an exact resume. */
  async getState(): Promise<PromptEnvState[]> {
    this.assertOpen('getState');
    const parts = await Promise.all(this.links.map((l) => l.request<PromptEnvState[]>({ cmd: 'getState' })));
    return parts.flat();
  }

  /** Continue from `getState()`'s states; returns the envs' current observations. */
  async setState(states: readonly PromptEnvState[], source = 'vector env state'): Promise<PromptObservation[]> {
    this.assertOpen('setState');
    if (!Array.isArray(states) || states.length !== this.numEnvs)
      throw new Error(`${source}: ${Array.isArray(states) ? states.length : 'no'} env states for ${this.numEnvs} envs`);
    let offset = 0;
    const parts = await Promise.all(
      this.links.map((l, w) => {
        const from = offset;
        offset += this.shares[w];
        return l.request<SerializedRestore>({
          cmd: 'setState',
          states: states.slice(from, offset),
          source: `${source}: envs ${from}..${offset - 1}`,
        });
      }),
    );
    const names = parts.flatMap((p) => p.targetNames);
    this.current = await this.resolveAll(
      parts.flatMap((p) => p.observations),
      names.map((target_name) => ({ target_name })),
    );
    return this.current;
  }

  async render(): Promise<(RgbImage | null)[]> {
    return new Array(this.numEnvs).fill(null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.links.map((l) => l.request({ cmd: 'close' }).catch(() => null)));
    await Promise.all(this.links.map((l) => l.worker.terminate()));
    this.held.forEach((e) => e && this.options.embeddings.release(e));
    this.held.fill(null);
  }

  private async resolveAll(serialized: SerializedObservation[], infos: Info[]): Promise<PromptObservation[]> {
    return Promise.all(serialized.map((o, i) => this.resolve(o, infos[i].target_name as string | null, i, true)));
  }

  /** Turn a serialized observation back into one with its embedding tensor; `pin` moves env i's pin to it. */
  private async resolve(
    o: SerializedObservation,
    targetName: string | null,
    envIndex: number,
    pin: boolean,
  ): Promise<PromptObservation> {
    const prev = this.held[envIndex];
    let emb: ImageEmbedding;
    if (prev && prev.key === o.embeddingKey) emb = prev;
    else if (pin) {
      emb = await this.options.embeddings.acquireKey(o.embeddingKey);
      this.held[envIndex] = emb;
      if (prev) this.options.embeddings.release(prev);
    } else {
      emb = await this.options.embeddings.acquireKey(o.embeddingKey);
      this.options.embeddings.release(emb);
    }
    const { embeddingKey, ...rest } = o;
    void embeddingKey;
    const dim = this.options.textDim ?? 0;
    return {
      ...rest,
      embedding: { key: emb.key, tensor: emb.embedding },
      textVector: dim > 0 ? this.options.textVector!(targetName ?? '') : undefined,
    };
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new Error(`SamPromptWorkerVectorEnv: ${what}() after close()`);
  }
}
