/** Public API of the RL agents. */
export { PPO, PPO_DEFAULTS, PPO_PRESETS } from './ppo/ppo';
export type { PPOOptions } from './ppo/ppo';
export { DQN, DQN_DEFAULTS } from './dqn/dqn';
export type { DQNOptions } from './dqn/dqn';
export type {
  AgentCommonOptions,
  AgentRuntimeOptions,
  AnyEnv,
  EpisodeTracking,
  LearnOptions,
  NetArchitecture,
} from './base-agent';
export {
  CallbackList,
  CheckpointCallback,
  EvalCallback,
  ProgressBarCallback,
  StopTrainingOnRewardThreshold,
} from './callbacks';
export type { Callback, CallbackContext, EvalCallbackOptions, LearningAgent } from './callbacks';
export { evaluatePolicy } from './evaluate';
export type { EvaluationResult, PolicyLike } from './evaluate';
export { linearSchedule, scheduleValue } from './schedules';
export type { Schedule } from './schedules';
export { batchObservations, snapshotObservation, validateObservation } from './observation';
export type { ObservationDims, PromptObservationBatch } from './observation';
export { PromptNet, DEFAULT_NET_CONFIG } from './networks/prompt-net';
export { ACTION_LAYOUTS, netArchitectureFields, netArchitectureSchema } from './networks/net-architecture';
export type { PromptNetConfig, NetOutput, NetHead, ActionLayout } from './networks/prompt-net';
export { exportPolicy, loadExportedPolicy, policyArtifacts } from './export/policy-export';
export { PolicyRuntime, POLICY_EXPORT_FORMAT, POLICY_JSON, POLICY_WEIGHTS } from './export/policy-runtime';
export type { PolicyExportJson } from './export/policy-runtime';
export { computeGae, explainedVariance } from './ppo/gae';
export { ppoLoss } from './ppo/ppo-loss';
export { dqnTargets } from './dqn/dqn-targets';
export { MASKED_LOGIT, maskLogits, sampleMasked, argmaxMasked } from './distributions';
