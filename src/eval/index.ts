export { BASELINE_NAMES, CentreClicker, OracleClicker, RandomClicker, actionFor, agentPolicy, createBaseline } from './clickers';
export type { BaselineName, ClickPolicy } from './clickers';
export { episodeSpecs, evaluate, reportToJson } from './evaluate';
export type { EpisodePicture, EpisodeResult, EpisodeSpec, EvaluateOptions, EvaluationReport } from './evaluate';
