/**
 * What crosses the thread boundary between `EncoderPool` and its workers: images go in (copied),
 * embedding values come back (transferred). Tensors cannot cross; each side has its own backend.
 */
import type { RgbImage } from '../data/types';
import type { SamConfig } from './config';
import type { ImageSizeHW } from './processing/transforms';

/** What a worker starts from. */
export interface EncoderWorkerData {
  /** A SAM model folder or weights file, as `fromPretrained` takes it. */
  checkpoint: string;
  /** The calling thread's resolved config, so both sides build the same model. */
  config: SamConfig;
  backend: string;
}

export type EncoderRequest = { cmd: 'encode'; id: number; image: RgbImage } | { cmd: 'close' };

export type EncoderReply =
  | { type: 'ready'; weightsId: string }
  | { type: 'failed'; error: string }
  | { type: 'encoded'; id: number; data: Float32Array; shape: [number, number, number]; inputSize: ImageSizeHW }
  | { type: 'error'; id: number; error: string }
  | { type: 'closed' };
