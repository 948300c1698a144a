/**
 * Preprocessors: hand-computed expectations, plus sklearn KNNImputer golden values
 * (tests/fixtures/golden/filters/preprocess.json, tolerance 1e-12 relative).
 */
import { parseArgs } from '../../../compute/core/args';
import { fromRows, makeDataset, type Dataset } from '../../../compute/core/dataset';
import { fitPipeline } from '../../../compute/preprocess';
import { getPreprocessor, preprocessors } from '../../../compute/registry';
import { normalQuantile } from '../../../compute/stats';
import { expectClose, loadGolden } from './selectors/filters-fixture';

function fit(code: string, train: Dataset, raw: Record<string, unknown> = {}) {
  const def = getPreprocessor(code);
  return def.fit(train, parseArgs(def.args, raw) as never);
}

/** Row-major values of a dataset (rows = samples), for readable expectations. */
function rows(ds: Dataset): number[][] {
  return Array.from({ length: ds.nSamples }, (_, i) =>
    Array.from({ length: ds.nFeatures }, (_, j) => ds.data[j * ds.nSamples + i]!),
  );
}

const train = fromRows([
  [1, 10, 5],
  [3, 20, 5],
  [5, NaN, 5],
  [7, 30, 5],
]);
const test = fromRows([
  [0, 25, 6],
  [9, NaN, 4],
]);

describe('preprocessors', () => {
  it('are all registered with docs', () => {
    const codes = preprocessors.map(p => p.code);
    for (const code of [
      'log2',
      'zscore',
      'rank',
      'quantile_normalize',
      'impute',
      'knn_impute',
      'variance_filter',
      'expression_filter',
      'batch_center',
    ]) {
      expect(codes).toContain(code);
    }
  });

  it('log2(x + 1), non-positive arguments → missing, input untouched', () => {
    const ds = fromRows([[0, 1, 3, -2]]);
    const out = fit('log2', ds).transform(ds);
    expect(rows(out)[0]).toEqual([0, 1, 2, NaN]);
    expect(rows(ds)[0]).toEqual([0, 1, 3, -2]);
    expect(rows(fit('log2', ds, { pseudocount: 0 }).transform(ds))[0]![2]).toBeCloseTo(
      Math.log2(3),
      15,
    );
  });

  it('zscore learns mean / population sd on train and applies them to test', () => {
    const z = fit('zscore', train);
    const sd0 = Math.sqrt(5); // var of 1,3,5,7 (ddof 0)
    const sd1 = Math.sqrt(200 / 3); // var of 10,20,30
    const out = rows(z.transform(test));
    expect(out[0]![0]).toBeCloseTo((0 - 4) / sd0, 14);
    expect(out[0]![1]).toBeCloseTo((25 - 20) / sd1, 14);
    expect(out[0]![2]).toBe(1); // constant feature: sd 1, centred only
    expect(out[1]![1]).toBeNaN();
    const r = rows(fit('zscore', train, { ddof: 1 }).transform(test));
    expect(r[0]![0]).toBeCloseTo(-4 / Math.sqrt(20 / 3), 14);
  });

  it('rank gives r/(m+1) positions against the training values', () => {
    const r = fit('rank', train);
    const own = rows(r.transform(train));
    expect(own.map(x => x[0])).toEqual([1 / 5, 2 / 5, 3 / 5, 4 / 5]);
    expect(own[0]![2]).toBe(2.5 / 5); // four tied values: average rank 2.5
    const t = rows(r.transform(test));
    expect(t[0]![0]).toBe(0.5 / 5); // below every training value
    expect(t[1]![0]).toBe(4.5 / 5); // above every training value
    expect(t[0]![1]).toBe(2.5 / 4); // between 20 and 30 with m = 3
    const normal = rows(fit('rank', train, { output: 'normal' }).transform(test));
    expect(normal[0]![0]).toBeCloseTo(normalQuantile(0.1), 14);
  });

  it('quantile_normalize reproduces the Bolstad textbook example (ties averaged)', () => {
    // samples as rows here: I = (5,2,3,4), II = (4,1,4,2), III = (3,4,6,8) over genes A–D
    const ds = fromRows([
      [5, 2, 3, 4],
      [4, 1, 4, 2],
      [3, 4, 6, 8],
    ]);
    const out = rows(fit('quantile_normalize', ds).transform(ds));
    const ref = [2, 3, 14 / 3, 17 / 3];
    const tie = (ref[2]! + ref[3]!) / 2;
    const expected = [
      [ref[3], ref[0], ref[1], ref[2]],
      [tie, ref[0], tie, ref[1]],
      [ref[0], ref[1], ref[2], ref[3]],
    ];
    out.forEach((r, i) => expectClose(r, expected[i]!, 1e-14));
  });

  it('impute fills with the training mean or median', () => {
    const withGap = fromRows([[NaN, NaN, NaN]]);
    expect(rows(fit('impute', train).transform(withGap))[0]).toEqual([4, 20, 5]);
    const skew = fromRows([[1], [2], [10], [NaN]]);
    expect(rows(fit('impute', skew, { strategy: 'median' }).transform(skew))[3]).toEqual([2]);
  });

  it('knn_impute matches sklearn KNNImputer (nan_euclidean, uniform)', () => {
    const g = loadGolden<{ X: (number | null)[][]; knn3: number[][]; knn1: number[][] }>(
      'preprocess.json',
    );
    const ds = fromRows(g.X.map(r => r.map(v => (v === null ? NaN : v))));
    const k3 = rows(fit('knn_impute', ds, { n_neighbors: 3 }).transform(ds));
    const k1 = rows(fit('knn_impute', ds, { n_neighbors: 1 }).transform(ds));
    expectClose(k3.flat(), g.knn3.flat(), 1e-12);
    expectClose(k1.flat(), g.knn1.flat(), 1e-12);
  });

  it('variance_filter and expression_filter keep features by training statistics', () => {
    const v = fit('variance_filter', train).transform(test);
    expect(v.featureNames).toEqual(['f1', 'f2']);
    const top = fit('variance_filter', train, { drop_fraction: 0.5 }).transform(test);
    expect(top.featureNames).toEqual(['f1', 'f2']); // floor(1.5) = 1 feature dropped
    const e = fit('expression_filter', train, { min_value: 6, min_fraction: 0.25 }).transform(test);
    expect(e.featureNames).toEqual(['f1', 'f2']);
    const strict = fit('expression_filter', train, { min_value: 6, min_fraction: 0.5 });
    expect(strict.transform(test).featureNames).toEqual(['f2']);
  });

  it('batch_center removes per-batch means; unseen batches centre on themselves', () => {
    const b = makeDataset({
      data: Float64Array.from([1, 3, 10, 14]),
      nSamples: 4,
      featureNames: ['g'],
      batch: ['x', 'x', 'y', 'y'],
    });
    const f = fit('batch_center', b);
    expect(rows(f.transform(b)).flat()).toEqual([-1, 1, -2, 2]);
    const newBatch = { ...b, batch: ['y', 'z', 'z', 'x'] };
    expect(rows(f.transform(newBatch)).flat()).toEqual([1 - 12, 3 - 6.5, 10 - 6.5, 14 - 2]);
    const keep = fit('batch_center', b, { keep_global_mean: true });
    expect(rows(keep.transform(b)).flat()).toEqual([6, 8, 5, 9]);
    expect(() => fit('batch_center', train)).toThrow(/batch/);
  });

  it('pipeline fits steps in order on train and applies them unchanged to test', () => {
    const p = fitPipeline(train, [
      { code: 'log2' },
      { code: 'impute', args: { strategy: 'median' } },
      { code: 'variance_filter' },
      { code: 'zscore' },
    ]);
    expect(p.steps.map(s => s.code)).toEqual(['log2', 'impute', 'variance_filter', 'zscore']);
    expect(p.train.featureNames).toEqual(['f1', 'f2']);
    const out = p.transform(test);
    expect(out.featureNames).toEqual(['f1', 'f2']);
    // f1 after log2: log2(2), log2(4), log2(6), log2(8); test value log2(1) = 0
    const lg = [1, 2, Math.log2(6), 3];
    const mu = lg.reduce((s, v) => s + v, 0) / 4;
    const sd = Math.sqrt(lg.reduce((s, v) => s + (v - mu) ** 2, 0) / 4);
    expect(rows(out)[0]![0]).toBeCloseTo((0 - mu) / sd, 13);
    expect(Number.isNaN(rows(out)[1]![1])).toBe(false); // imputed with the training median
    expect(() =>
      fitPipeline(train, [{ code: 'log2' }, { code: 'impute', args: { strategy: 'mode' } }]),
    ).toThrow(/preprocess\[1\]\.strategy/);
    expect(() => fitPipeline(train, [{ code: 'nope' }])).toThrow(/unknown preprocessor "nope"/);
  });

  it('reject test data with features not seen in training', () => {
    const other = fromRows([[1, 2, 3]], ['a', 'b', 'c']);
    expect(() => fit('zscore', train).transform(other)).toThrow(/feature "a"/);
  });
});
