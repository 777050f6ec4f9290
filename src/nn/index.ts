/** Building blocks shared by the agents' networks and the SRM. */
export { ParamSet } from './params';
export { orthogonalConv, orthogonalDense, orthogonalMatrix } from './init';
export { AdaptivePool, adaptivePool2dMatrixT, adaptivePoolWeights } from './pooling';
export { matMul2d, matMulConstLeft } from './matmul';
export { Adam, clipByGlobalNorm } from './adam';
export type { AdamOptions, NamedVariables } from './adam';
