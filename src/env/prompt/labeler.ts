/**
 * Who labels a click when the agent only picks the location. The env depends on this interface
 * only; the semantic recalibration module (src/recalibration) implements it, so the env never
 * imports a layer above it.
 */
import type { PromptObservation } from './observation';

export interface ClickLabelRequest {
  observation: PromptObservation;
  /** Cell index of the click, row-major on the action grid. */
  cell: number;
}

export interface ClickLabeler {
  /** Labels (1 positive, 0 negative) for a batch of clicks, one per request. */
  labelClicks(requests: readonly ClickLabelRequest[]): Promise<(0 | 1)[]>;
  /**
   * Foreground scores of every cell, [G*G] per observation: used for the evaluation start P0
   * (the highest- and lowest-scoring cells).
   */
  scoreCells(observations: readonly PromptObservation[]): Promise<Float32Array[]>;
}
