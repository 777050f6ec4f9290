export { Wrapper } from './wrapper';
export { TimeLimit } from './time-limit';
export { OrderEnforcing, ResetNeededError } from './order-enforcing';
export { RecordEpisodeStatistics } from './record-episode-statistics';
export type { EpisodeStatistics, RecordEpisodeStatisticsOptions } from './record-episode-statistics';
export { TransformObservation, TransformReward } from './transform';
