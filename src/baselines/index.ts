export { nextOracleClick, runOracleClicks } from './oracle-click';
export type { OracleClick, OracleClickOptions, ClickSegmenter, OracleRunOptions, OracleRun } from './oracle-click';
export { distanceTransform } from './distance-transform';
export type { DistanceTransformOptions } from './distance-transform';
export { connectedComponents } from './connected-components';
export type { Components } from './connected-components';
