export { confusionCounts, binarize, ConfusionAccumulator } from './confusion';
export type { ConfusionCounts, MaskLike } from './confusion';
export { iou, dice, ber, mae, fBeta, iouFromCounts, diceFromCounts } from './segmentation';
export type { FBetaOptions } from './segmentation';
export { iouAtClick, clicksToReach, failedToReach, clickMetrics } from './interactive';
export type { ClickMetricsOptions } from './interactive';
export { meanMetrics } from './aggregate';
