/**
 * Public API of alignsam-tfjs, layer by layer: data -> sam -> env (+ reward) -> agent /
 * recalibration -> training runs.
 */
export { initBackend, nativeBackendPackage } from './backend';
export type { BackendName } from './backend';
export { Rng } from './utils/rng';
export type { RngState } from './utils/rng';
export * from './schema';
export * from './io';
export * from './data';
export * from './sam';
export * from './metrics';
export * from './baselines';
export * from './reward';
export * from './env';
export * from './text';
export * from './nn';
export * from './agent';
export * from './recalibration';
export * from './eval';
export * from './config';
