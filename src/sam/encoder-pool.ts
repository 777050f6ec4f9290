/**
 * SAM's image encoder on every core: a pool of worker threads, each with its own tfjs backend and
 * its own copy of the model, encoding different images at the same time. The wasm backend runs one
 * thread per isolate in Node, so workers are how a second core gets used. An embedding is computed
 * by the same code on the same backend whichever thread runs it, so it is bit-identical to one
 * computed on the calling thread.
 *
 * Workers start on the first `encode` and keep the process alive only while images are in flight:
 * an idle pool never holds a finished program open. `close()` ends them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'worker_threads';
import type { RgbImage } from '../data/types';
import { startWorkerScript } from '../utils/start-worker';
import { SAM_PRESETS, SamConfig, SamPresetName } from './config';
import type { EncoderReply, EncoderWorkerData } from './encoder-messages';
import { checkImage } from './image-encoding';
import type { ImageSizeHW } from './processing/transforms';
import { resolvePretrained } from './pretrained';

export interface EncoderPoolOptions {
  /** A SAM model folder or weights file, as `fromPretrained` takes it; every worker loads it once. */
  checkpoint: string;
  /** The model's config (the calling thread's `model.config`), or a preset name. */
  config: SamConfig | SamPresetName;
  /** Worker threads (default: `defaultEncoderWorkers`). */
  workers?: number;
  /** Each worker's backend (default: the calling thread's, which keeps results bit-identical). */
  backend?: string;
  /**
   * The weights' id as the calling thread's model has it: a worker that loads other weights (the
   * file was replaced meanwhile) fails instead of filing embeddings under the wrong key.
   */
  weightsId?: string;
}

/** One image's embedding, as values: the caller makes the tensor on its own backend. */
export interface EncodedImage {
  /** [E, E, D], channels-last, row-major. */
  data: Float32Array;
  shape: [number, number, number];
  originalSize: ImageSizeHW;
  /** Size of the resized image inside the padded input square. */
  inputSize: ImageSizeHW;
}

interface Job {
  id: number;
  image: RgbImage;
  name: string;
  resolve: (r: EncodedImage) => void;
  reject: (e: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  inFlight: Map<number, Job>;
  /** Retired: failed, died or closed; it takes no more images. */
  stopped: boolean;
  /** Settles when the worker has loaded its model, or could not. */
  loaded: Promise<void>;
  settle: (err?: Error) => void;
}

/**
 * Images a worker is sent before its current one is done: the next is already in its queue when
 * it finishes, so a fast encoder (the micro-SAM) does not wait for the message round trip.
 */
const DEPTH = 2;

/** Backends whose kernels already spread one image over every core: workers would only compete. */
const MULTI_THREADED_BACKENDS = new Set(['tensorflow', 'webgl', 'webgpu']);

export class EncoderPool {
  readonly size: number;
  readonly backend: string;
  private readonly config: SamConfig;
  private slots: Slot[] | null = null;
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  /** Why the pool cannot encode any more (every worker failed), once it cannot. */
  private broken: Error | null = null;

  constructor(private readonly options: EncoderPoolOptions) {
    this.config = typeof options.config === 'string' ? SAM_PRESETS[options.config] : options.config;
    if (!this.config) throw new Error(`EncoderPool: unknown SAM preset '${options.config}'`);
    this.backend = options.backend ?? tf.getBackend();
    if (MULTI_THREADED_BACKENDS.has(this.backend)) {
      throw new Error(
        `EncoderPool: the '${this.backend}' backend already uses every core for one image; encode on the calling thread (1 worker)`,
      );
    }
    resolvePretrained(options.checkpoint);
    this.size = options.workers ?? defaultEncoderWorkers(options.checkpoint, this.config);
    if (!(Number.isInteger(this.size) && this.size >= 1))
      throw new Error(`EncoderPool: workers must be an integer >= 1, got ${options.workers}`);
  }

  /** Images to have in flight to keep every worker busy. */
  get capacity(): number {
    return this.size * DEPTH;
  }

  /** The weights' id the pool was told to expect, if any. */
  get weightsId(): string | undefined {
    return this.options.weightsId;
  }

  /**
   * Encode `image` on a free worker. `name` (a file, a sample id) leads any error's message, so a
   * failure among thousands of images says which one.
   */
  encode(image: RgbImage, name = 'image'): Promise<EncodedImage> {
    if (this.closed) return Promise.reject(new Error(`${name}: the encoder pool is closed`));
    if (this.broken) return Promise.reject(new Error(`${name}: ${this.broken.message}`));
    try {
      checkImage(image, name);
    } catch (err) {
      return Promise.reject(err);
    }
    this.slots ??= this.start();
    return new Promise<EncodedImage>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, image, name, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Start the workers now rather than on the first image, and wait until every one has loaded its
   * model (to time encoding apart from start-up, or to fail early on a bad checkpoint).
   */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('the encoder pool is closed');
    this.slots ??= this.start();
    await Promise.all(this.slots.map((s) => s.loaded));
  }

  /** End every worker; images not yet encoded are refused. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const why = new Error('the encoder pool was closed before this image was encoded');
    this.failJobs(this.queue.splice(0), why);
    const slots = this.slots ?? [];
    for (const s of slots) {
      s.stopped = true;
      s.settle(new Error('the encoder pool was closed'));
      this.failJobs([...s.inFlight.values()], why);
      s.inFlight.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot[] {
    const data: EncoderWorkerData = { checkpoint: this.options.checkpoint, config: this.config, backend: this.backend };
    return Array.from({ length: this.size }, (_, index) => {
      let settle!: (err?: Error) => void;
      const loaded = new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
      });
      // Nobody need wait for it: an unobserved failure is reported through the images instead.
      loaded.catch(() => undefined);
      const worker = startWorkerScript(__filename, 'encoder-worker', { workerData: data });
      const slot: Slot = { index, worker, ready: false, inFlight: new Map(), stopped: false, loaded, settle };
      slot.worker.on('message', (reply: EncoderReply) => this.onReply(slot, reply));
      slot.worker.on('error', (err) => this.onDeath(slot, `failed: ${err.message}`));
      slot.worker.on('exit', (code) => this.onDeath(slot, `exited with code ${code}`));
      return slot;
    });
  }

  private onReply(slot: Slot, reply: EncoderReply): void {
    switch (reply.type) {
      case 'ready':
        if (this.options.weightsId !== undefined && reply.weightsId !== this.options.weightsId) {
          this.retire(
            slot,
            `loaded weights ${reply.weightsId} from ${this.options.checkpoint}, not the expected ${this.options.weightsId} (was the file replaced?)`,
          );
          return;
        }
        slot.ready = true;
        slot.settle();
        break;
      case 'failed':
        this.retire(slot, `could not load ${this.options.checkpoint}: ${reply.error}`);
        return;
      case 'encoded':
      case 'error': {
        const job = slot.inFlight.get(reply.id);
        if (!job) return;
        slot.inFlight.delete(reply.id);
        if (reply.type === 'error') job.reject(new Error(`${job.name}: encoder worker ${slot.index}: ${reply.error}`));
        else {
          const { height, width } = job.image;
          job.resolve({
            data: reply.data,
            shape: reply.shape,
            originalSize: { height, width },
            inputSize: reply.inputSize,
          });
        }
        break;
      }
      case 'closed':
        return;
    }
    this.dispatch();
  }

  /** A worker that died: its images fail with its reason; the others go on. */
  private onDeath(slot: Slot, reason: string): void {
    if (slot.stopped) return;
    this.retire(slot, reason);
  }

  private retire(slot: Slot, reason: string): void {
    slot.stopped = true;
    slot.ready = false;
    slot.settle(new Error(`encoder worker ${slot.index} ${reason}`));
    const jobs = [...slot.inFlight.values()];
    slot.inFlight.clear();
    for (const job of jobs) job.reject(new Error(`${job.name}: encoder worker ${slot.index} ${reason}`));
    void slot.worker.terminate();
    if (this.slots!.every((s) => s.stopped)) {
      this.broken = new Error(`every encoder worker stopped (worker ${slot.index} ${reason})`);
      for (const job of this.queue.splice(0)) job.reject(new Error(`${job.name}: ${this.broken.message}`));
    }
    this.dispatch();
  }

  private dispatch(): void {
    const slots = this.slots ?? [];
    for (let depth = 1; depth <= DEPTH && this.queue.length > 0; depth++) {
      for (const s of slots) {
        if (this.queue.length === 0) break;
        if (!s.ready || s.stopped || s.inFlight.size >= depth) continue;
        const job = this.queue.shift()!;
        s.inFlight.set(job.id, job);
        s.worker.postMessage({ cmd: 'encode', id: job.id, image: job.image });
      }
    }
    // Workers hold the process open while they load their model and while there is work, so a
    // pool nobody closed does not keep a finished program from exiting.
    const busy = this.queue.length > 0 || slots.some((s) => s.inFlight.size > 0);
    for (const s of slots) {
      if (s.stopped) continue;
      if (busy || !s.ready) s.worker.ref();
      else s.worker.unref();
    }
  }

  private failJobs(jobs: Job[], why: Error): void {
    for (const job of jobs) job.reject(new Error(`${job.name}: ${why.message}`));
  }
}

/**
 * How many encoder workers to use: `requested` when set, else `defaultEncoderWorkers`. A backend
 * whose kernels already use every core for one image gets 1 (the calling thread); asking for more
 * there is an error.
 */
export function resolveEncoderWorkers(
  requested: number | null | undefined,
  checkpoint: string,
  config: SamConfig,
  backend = tf.getBackend(),
): number {
  if (requested !== null && requested !== undefined && !(Number.isInteger(requested) && requested >= 1)) {
    throw new Error(`encoder workers must be an integer >= 1, got ${requested}`);
  }
  if (MULTI_THREADED_BACKENDS.has(backend)) {
    if (requested !== null && requested !== undefined && requested > 1) {
      throw new Error(
        `${requested} encoder workers: the '${backend}' backend already uses every core for one image; use 1 worker with it`,
      );
    }
    return 1;
  }
  return requested ?? defaultEncoderWorkers(checkpoint, config);
}

/**
 * Worker threads that fit this machine: one per core the process may use (its CPU affinity and
 * cgroup quota), fewer when the free memory cannot hold that many copies of the model. A worker
 * holds the weights twice (the parsed file and the backend's copy) and the encoder's activations.
 */
export function defaultEncoderWorkers(checkpoint: string, config: SamConfig): number {
  const weightsBytes = fs.statSync(resolvePretrained(checkpoint).weights).size;
  const scale = (config.imageEncoder.imgSize / 1024) ** 2;
  const perWorker = 3 * weightsBytes + 768 * 2 ** 20 * scale + 64 * 2 ** 20;
  return Math.max(1, Math.min(availableCores(), Math.floor(availableMemory() / perWorker)));
}

/** Cores this process may run on: its affinity, capped by a cgroup CPU quota (containers). */
export function availableCores(): number {
  const cores = os.availableParallelism();
  const quota = cgroupCpuQuota();
  return quota === null ? cores : Math.max(1, Math.min(cores, Math.floor(quota)));
}

/** cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us / cpu.cfs_period_us`, in cores; null when unlimited or unknown. */
function cgroupCpuQuota(): number | null {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    return quota === 'max' ? null : Number(quota) / Number(period) || null;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : null;
}

/** Free memory, capped by a cgroup memory limit (a container's free memory reads as the host's). */
function availableMemory(): number {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const free = os.freemem();
  // cgroup v2, then v1 (whose "no limit" is a huge number, which the min below ignores).
  for (const [limitFile, usageFile] of [
    ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes'],
  ]) {
    const limit = Number(read(limitFile));
    const usage = Number(read(usageFile));
    if (limit > 0 && Number.isFinite(usage)) return Math.max(0, Math.min(free, limit - usage));
  }
  return free;
}
