export {
  CLICKER_NAMES,
  CentreClicker,
  OracleClicker,
  RandomClicker,
  actionFor,
  agentPolicy,
  createBaseline,
} from './clickers';
export type { ClickerName, ClickPolicy } from './clickers';
export { episodeSpecs, evaluate, meansByTarget, reportToJson } from './evaluate';
export type { EpisodePicture, EpisodeResult, EpisodeSpec, EvaluateOptions, EvaluationReport } from './evaluate';
export { evaluateFromConfig, evaluationJson, evaluationScalars, writeEvaluationJson } from './run-evaluation';
export type { RunEvaluationConfig, RunEvaluationOptions } from './run-evaluation';
