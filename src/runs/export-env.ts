/**
 * The env an exported agent runs in, from its manifest: one mapping shared by `alignsam predict`,
 * `alignsam eval --export` and the browser demo. Type-only imports, so the demo can bundle it.
 */
import type { SegmentationDataset } from '../data/types';
import type { SamPromptEnvOptions } from '../env/prompt/sam-prompt-env';
import type { EmbeddingCache } from '../sam/embedding-cache';
import type { LoadedExport } from './export';

/** What of a loaded export (Node's or the browser's) the env options depend on. */
export type ExportEnvSource = Pick<LoadedExport, 'manifest' | 'srm' | 'textVector' | 'textDim'>;

/** The export's env settings over any data set (ground truth only matters to metrics). */
export function exportEnvOptions(
  exp: ExportEnvSource,
  dataset: SegmentationDataset,
  embeddings: EmbeddingCache,
): SamPromptEnvOptions {
  const e = exp.manifest.env;
  return {
    dataset,
    embeddings,
    gridSize: e.gridSize,
    horizon: e.horizon,
    labelSource: e.labelSource,
    labeler: exp.srm ?? undefined,
    initialPrompts: e.initialPrompts,
    reward: 'alignsam',
    textVector: exp.textVector,
    textDim: exp.textDim,
    multimaskOutput: e.multimaskOutput,
    // A manifest without the key was trained without mask input.
    maskInput: e.maskInput ?? false,
    observeLabeler: e.observeLabeler === true,
  };
}
