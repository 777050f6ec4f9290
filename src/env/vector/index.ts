export { AUTORESET_MODES, VectorEnvError, finalObservationOf } from './types';
export type { AutoresetMode, VectorEnv, VectorResetOptions, VectorResetResult, VectorStepResult } from './types';
export { BaseVectorEnv, perEnvResetOptions } from './base-vector-env';
export { SyncVectorEnv, assertSameSpaces } from './sync-vector-env';
export type { SyncVectorEnvOptions } from './sync-vector-env';
export { toVectorEnv } from './to-vector-env';
export { AsyncVectorEnv } from './async-vector-env';
export type { AsyncVectorEnvOptions } from './async-vector-env';
export type { WorkerEnvSpec } from './worker-protocol';
