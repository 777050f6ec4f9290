export {
  SAM_PRESETS,
  samConfigFromJson,
  samConfigToJson,
  validateSamConfig,
  embeddingGridSize,
  lowResMaskSize,
} from './config';
export type {
  SamConfig,
  SamPresetName,
  ImageEncoderConfig,
  PromptEncoderConfig,
  MaskDecoderConfig,
  TwoWayTransformerConfig,
} from './config';
export { SamModel } from './modeling/sam-model';
export type { DecodeRequest, SamMemoryOptions } from './modeling/sam-model';
export { planSamMemory, samMemoryPlan, WASM_HEAP_LIMIT } from './memory-plan';
export type { SamMemoryPlan, EncoderWeightForm, KernelBuild } from './memory-plan';
export type { DecoderOutput, DecoderIntermediates } from './modeling/mask-decoder';
export type { ModelPrompt } from './modeling/prompt-encoder';
export { fromPretrained, loadSam, resolvePretrained, SAM_WEIGHT_EXTENSIONS } from './pretrained';
export type { LoadSamOptions, PretrainedFiles } from './pretrained';
export { readSamCheckpoint, inferSamPreset, fileSha256, CheckpointWeights } from './weights/checkpoint';
export type { CheckpointFormat } from './weights/checkpoint';
export { SamPredictor, disposePrediction } from './predictor';
export type { PromptInput, Prediction } from './predictor';
export { ImageEmbedding } from './image-embedding';
export { EmbeddingCache } from './embedding-cache';
export type { EmbeddingCacheOptions, EmbeddingCacheStats } from './embedding-cache';
export { EncoderPool, defaultEncoderWorkers, availableCores } from './encoder-pool';
export type { EncoderPoolOptions, EncodedImage } from './encoder-pool';
export { encodeImage, preprocessImage, embeddingKey } from './image-encoding';
export { postprocessMasks } from './processing/postprocess';
export {
  resizeLongestSideSize,
  resizeImageLongestSide,
  applyCoords,
  applyBoxes,
  normalizeAndPad,
} from './processing/transforms';
export type { ImageSizeHW } from './processing/transforms';
export { resizeBilinearPil } from './processing/pil-resize';
export { samWeightSpecs } from './weights/weight-spec';
export type { WeightSpec } from './weights/weight-spec';
export { detectNaming, toOfficialNames, toHuggingFaceNames } from './weights/weight-names';
export { randomSamWeights } from './weights/random-weights';
export { samVariables, weightsFromVariables, SAM_FROZEN_BUFFERS } from './weights/variables';
export { encoderFlops, decoderFlops } from './flops';
export type { RawWeights, RawWeight, WeightSource } from './weights/params';
