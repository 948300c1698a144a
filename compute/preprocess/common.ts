/**
 * Helpers shared by the preprocessors. Every transform returns a new Dataset (the input is never
 * mutated) with the same samples, outcome and batch; feature filters also change the columns.
 */
import { type Dataset, selectFeaturesByName } from '../core/dataset';
import { type FittedPreprocessor } from '../core/method';

/** A copy of `ds` whose values are fn(value, featureIndex) elementwise (NaN stays NaN unless fn maps it). */
export function mapColumns(
  ds: Dataset,
  fn: (col: Float64Array, out: Float64Array, j: number) => void,
): Dataset {
  const n = ds.nSamples;
  const data = new Float64Array(ds.data.length);
  for (let j = 0; j < ds.nFeatures; j++) {
    fn(ds.data.subarray(j * n, (j + 1) * n), data.subarray(j * n, (j + 1) * n), j);
  }
  return { ...ds, data };
}

/**
 * Per-feature parameters learned on training data must be applied to the same features: look the
 * test columns up by name so a reordered test file still lines up, and fail naming the feature.
 */
export function featureIndex(trainNames: readonly string[], ds: Dataset, what: string): Int32Array {
  const at = new Map(trainNames.map((f, j) => [f, j]));
  return Int32Array.from(ds.featureNames, f => {
    const j = at.get(f);
    if (j === undefined) throw new Error(`${what}: feature "${f}" was not seen when fitting`);
    return j;
  });
}

/** A fitted feature filter: keeps the named features (in training order). */
export function keepFeatures(names: string[]): FittedPreprocessor & { kept: string[] } {
  return { kept: names, transform: (ds: Dataset) => selectFeaturesByName(ds, names) };
}

export const ALL_TASKS = [
  'unsupervised',
  'binary',
  'multiclass',
  'continuous',
  'survival',
] as const;
