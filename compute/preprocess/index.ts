/** Preprocessors (each also registered in compute/registry.ts) and the pipeline helper. */
export { log2 } from './log2';
export { zscore } from './zscore';
export { rank } from './rank';
export { quantileNormalize } from './quantile_normalize';
export { impute } from './impute';
export { knnImpute } from './knn_impute';
export { varianceFilter } from './variance_filter';
export { expressionFilter } from './expression_filter';
export { batchCenter } from './batch_center';
export { fitPipeline, type FittedPipeline, type PipelineStep } from './pipeline';
