export { SamPromptEnv } from './sam-prompt-env';
export type { SamPromptEnvOptions, PendingStep } from './sam-prompt-env';
export {
  INITIAL_PROMPTS,
  promptEnvSettings,
  promptEnvSettingsSchema,
  promptVectorEnvSettings,
  resolvePromptEnvSettings,
} from './prompt-env-options';
export type { InitialPrompts, PromptEnvSettings } from './prompt-env-options';
export { SamPromptVectorEnv } from './sam-prompt-vector-env';
export type { SamPromptVectorEnvOptions } from './sam-prompt-vector-env';
export { SamPromptWorkerVectorEnv } from './sam-prompt-worker-env';
export type { SamPromptWorkerVectorEnvOptions } from './sam-prompt-worker-env';
export type { WorkerPromptEnvConfig } from './worker-messages';
export { ActionGrid, LABEL_SOURCES } from './action-grid';
export type { LabelSource, DecodedAction } from './action-grid';
export { promptObservationSpace } from './observation';
export type { PromptObservation, EmbeddingRef, PromptObservationDims } from './observation';
export type { ClickLabeler, ClickLabelRequest } from './labeler';
export { LowResFrame } from './low-res-frame';
export { renderEpisode } from './render';
export {
  checkPromptEnvState,
  isResumablePromptEnv,
  promptEnvStatesFromRecord,
  promptEnvStatesToRecord,
} from './prompt-env-state';
export type {
  PromptEnvState,
  PromptEpisodeState,
  PromptEnvShape,
  PromptEnvStateJson,
  ResumablePromptEnv,
} from './prompt-env-state';
