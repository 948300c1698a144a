/** Numeric statistics shared by the selectors, preprocessors and models (float64 reference path). */
export * from './special';
export * from './distributions';
export * from './padjust';
export * from './ranks';
export * from './columns';
export * from './univariate';
export * from './sort';
export * from './ranking';
