export type { Env, Info, ResetOptions, ResetResult, StepResult, RgbImage } from './types';
export * from './spaces';
export * from './wrappers';
export * from './vector';
export { checkEnv, EnvCheckError } from './env-checker';
export type { CheckEnvOptions, CheckEnvReport } from './env-checker';
export * from './prompt';
