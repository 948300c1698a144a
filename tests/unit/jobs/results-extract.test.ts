/**
 * Typed result rows from stored documents (src/modules/jobs/result.extract.ts) and artifact
 * kind / content type / URL expiry (result.artifacts.ts). Documents here have the shapes the
 * worker runners write; tests/integration/results-*.test.ts checks the same through real jobs.
 */
import {
  ArtifactKind,
  artifactKind,
  contentTypeOf,
  expiryOf,
  modelKeysOf,
} from '../../../src/modules/jobs/result.artifacts';
import {
  benchmarkRows,
  chosenParams,
  featureRows,
  foldRows,
  metricRows,
  predictionCount,
  predictionRows,
  recommendation,
  tuningOf,
} from '../../../src/modules/jobs/result.extract';

describe('artifact kind and content type from the key', () => {
  const p = 'jobs/0b7c/attempt-1/';
  test.each([
    [`${p}model.json`, ArtifactKind.MODEL, 'application/json'],
    [`${p}models/svm-v1.json`, ArtifactKind.MODEL, 'application/json'],
    [`${p}features.csv`, ArtifactKind.EXPORT, 'text/csv; charset=utf-8'],
    [`${p}exports/result.json`, ArtifactKind.EXPORT, 'application/json'],
    [
      `${p}report.xlsx`,
      ArtifactKind.EXPORT,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    [`${p}plots/roc.svg`, ArtifactKind.PLOT, 'image/svg+xml'],
    [`${p}reports/model_features.csv`, ArtifactKind.EXPORT, 'text/csv; charset=utf-8'],
    [`${p}reports/model.json`, ArtifactKind.EXPORT, 'application/json'],
    [`${p}reports/roc-model.svg`, ArtifactKind.PLOT, 'image/svg+xml'],
    [`${p}model_features.csv`, ArtifactKind.EXPORT, 'text/csv; charset=utf-8'],
    [`${p}importance.SVG`, ArtifactKind.PLOT, 'image/svg+xml'],
    [`${p}preprocessed.bin`, ArtifactKind.DATA, 'application/octet-stream'],
    [`${p}modelling-notes`, ArtifactKind.DATA, 'application/octet-stream'],
  ])('%s → %s', (key, kind, type) => {
    expect(artifactKind(key)).toBe(kind);
    expect(contentTypeOf(key)).toBe(type);
  });

  test('the key a result names as its model is MODEL whatever its name', () => {
    const key = `${p}fitted.bin`;
    expect(artifactKind(key)).toBe(ArtifactKind.DATA);
    expect(artifactKind(key, modelKeysOf({ modelArtifact: key }))).toBe(ArtifactKind.MODEL);
  });
});

describe('expiry read back from presigned URLs', () => {
  test('S3: X-Amz-Date + X-Amz-Expires', () => {
    const url =
      'http://127.0.0.1:9000/b/jobs/x/model.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261122T040506Z&X-Amz-Expires=900&X-Amz-Signature=ab';
    expect(expiryOf(url)?.toISOString()).toBe('2026-11-22T04:20:06.000Z');
  });
  test('local: the signed token payload', () => {
    const body = Buffer.from(JSON.stringify({ m: 'GET', k: 'a/b', e: 1_800_000_000 })).toString(
      'base64url',
    );
    expect(expiryOf(`http://localhost:4000/objects/${body}.mac`)?.getTime()).toBe(
      1_800_000_000_000,
    );
  });
  test('unreadable → null', () => {
    expect(expiryOf('not a url')).toBeNull();
    expect(expiryOf('http://h/objects/%%%')).toBeNull();
  });
});

describe('FEATURE_SELECTION rows', () => {
  const data = {
    signatures: [{ name: 't_test', features: ['b', 'a'] }],
    selectors: [
      {
        selector: 't_test',
        selected: ['b', 'a'],
        scores: { a: 2, b: 5, c: 0.5, d: null },
        diagnostics: {
          pValues: { a: 0.01, b: 1e-5, c: 0.3, d: 1 },
          adjustedPValues: { a: 0.02, b: 4e-5, c: 0.4, d: 1 },
          statistic: { a: 2.5, b: 5.1, c: 1, d: 0 },
        },
      },
      {
        selector: 'stability_selection',
        selected: ['a'],
        scores: { a: 0.9, b: 0.4 },
        diagnostics: { frequency: { a: 0.9, b: 0.4 } },
      },
      {
        selector: 'cox',
        selected: ['z'],
        scores: { z: 3 },
        diagnostics: { p_value: { z: 0.001 }, p_adjusted: { z: 0.003 } },
      },
    ],
  };

  test('rank by score (null last), selected flags, p-values, frequency', () => {
    const rows = featureRows('FEATURE_SELECTION', data);
    const t = rows.filter(r => r.source === 't_test');
    expect(t.map(r => [r.name, r.rank, r.selected])).toEqual([
      ['b', 1, true],
      ['a', 2, true],
      ['c', 3, false],
      ['d', 4, false],
    ]);
    expect(t[0]).toMatchObject({ pValue: 1e-5, adjustedPValue: 4e-5, statistic: 5.1 });
    expect(t[3]!.score).toBeNull();
    const stab = rows.filter(r => r.source === 'stability_selection');
    expect(stab.map(r => [r.name, r.frequency, r.selected])).toEqual([
      ['a', 0.9, true],
      ['b', 0.4, false],
    ]);
    expect(rows.find(r => r.source === 'cox')).toMatchObject({
      pValue: 0.001,
      adjustedPValue: 0.003,
    });
  });

  test('a selected feature missing from a truncated score map still gets a row', () => {
    const rows = featureRows('FEATURE_SELECTION', {
      selectors: [{ selector: 's', selected: ['x', 'y'], scores: { x: 1 } }],
    });
    expect(rows.map(r => [r.name, r.rank, r.selected, r.score])).toEqual([
      ['x', 1, true, 1],
      ['y', 2, true, null],
    ]);
  });

  test('odd documents give empty lists, not errors', () => {
    expect(featureRows('FEATURE_SELECTION', { selectors: 'nope' })).toEqual([]);
    expect(foldRows('MODEL_TRAINING', { validation: null }, {})).toEqual([]);
    expect(benchmarkRows('BENCHMARKING', {})).toEqual([]);
    expect(tuningOf('HYPERPARAMETER_TUNING', {})).toBeNull();
  });
});

describe('MODEL_TRAINING rows', () => {
  const folds = Array.from({ length: 6 }, (_, i) => ({
    fold: i,
    n_train: 40,
    n_test: 10,
    metrics: { accuracy: (80 + i) / 100, roc_auc: i === 5 ? null : 0.9 },
    selected: ['a', 'b'],
    model_params: { C: 1 },
    seconds: 0.1,
  }));
  const data = {
    model: 'svm',
    params: { C: 2, kernel: 'rbf' },
    features: ['a', 'b'],
    selection: [{ code: 't_test', selected: ['a', 'b'], scores: { a: 3, b: 2, c: 1 } }],
    importance: { a: 0.2, b: 0.7, c: 0.1 },
    modelArtifact: 'jobs/j/attempt-1/model.json',
    validation: {
      metrics: { accuracy: 0.82, roc_auc: 0.9 },
      metrics_std: { accuracy: 0.02, roc_auc: 0.01 },
      folds,
      selection_frequency: { a: 1, b: 0.5, c: 0.25 },
    },
  };

  test('repeated splitter: repeat-major index → (repeat, fold)', () => {
    const rows = foldRows('MODEL_TRAINING', data, {
      validation: { splitter: { code: 'repeated', args: { n_splits: 3, n_repeats: 2 } } },
    });
    expect(rows.map(r => [r.index, r.repeat, r.fold])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 0, 2],
      [3, 1, 0],
      [4, 1, 1],
      [5, 1, 2],
    ]);
    expect(rows[5]!.metrics).toEqual([
      { name: 'accuracy', value: 0.85, std: null },
      { name: 'roc_auc', value: null, std: null },
    ]);
    expect(rows[0]).toMatchObject({ nTrain: 40, nTest: 10, selected: ['a', 'b'] });
  });

  test('plain k-fold: one repeat', () => {
    const rows = foldRows('MODEL_TRAINING', data, { validation: { splitter: null } });
    expect(rows.map(r => r.repeat)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(rows.map(r => r.fold)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('model features by importance with CV selection frequency; metrics mean ± std', () => {
    const rows = featureRows('MODEL_TRAINING', data);
    const model = rows.filter(r => r.source === 'model');
    // Importance of features outside the final model is not a model row.
    expect(model.map(r => [r.name, r.rank, r.score, r.frequency])).toEqual([
      ['b', 1, 0.7, 0.5],
      ['a', 2, 0.2, 1],
    ]);
    expect(rows.filter(r => r.source === 't_test').map(r => r.selected)).toEqual([
      true,
      true,
      false,
    ]);
    expect(metricRows('MODEL_TRAINING', data)).toEqual([
      { name: 'accuracy', value: 0.82, std: 0.02 },
      { name: 'roc_auc', value: 0.9, std: 0.01 },
    ]);
    expect(chosenParams('MODEL_TRAINING', data)).toEqual({ C: 2, kernel: 'rbf' });
  });
});

test('HYPERPARAMETER_TUNING: chosen parameters, trials, nested folds', () => {
  const data = {
    model: 'random_forest',
    strategy: 'tpe',
    metric: 'roc_auc',
    greater_is_better: true,
    best_params: { max_depth: 4 },
    best_score: 0.91,
    stopped_by: 'n_trials',
    trials: [
      { number: 0, params: { max_depth: 2 }, score: 0.8, scores_per_fold: [0.8, null, 0.8] },
      { number: 1, params: { max_depth: 4 }, score: null, state: 'failed', error: 'boom' },
    ],
    nested: { metrics: { roc_auc: 0.88 }, metrics_std: { roc_auc: 0.03 }, folds: [{ fold: 0 }] },
  };
  const t = tuningOf('HYPERPARAMETER_TUNING', data)!;
  expect(t).toMatchObject({
    model: 'random_forest',
    strategy: 'tpe',
    bestParams: { max_depth: 4 },
    bestScore: 0.91,
    nTrials: 2,
    stoppedBy: 'n_trials',
  });
  expect(t.trials[0]!.scoresPerFold).toEqual([0.8, 0.8]);
  expect(t.trials[1]).toMatchObject({ state: 'failed', error: 'boom', score: null });
  expect(chosenParams('HYPERPARAMETER_TUNING', data)).toEqual({ max_depth: 4 });
  expect(foldRows('HYPERPARAMETER_TUNING', data, {})).toHaveLength(1);
  expect(metricRows('HYPERPARAMETER_TUNING', data)).toEqual([
    { name: 'roc_auc', value: 0.88, std: 0.03 },
  ]);
});

test('BENCHMARKING: rows joined with their signature, best rank first; recommendation', () => {
  const data = {
    signatures: [
      {
        name: 'A',
        features: ['a'],
        metaindex: 0.6,
        metaindex_metric: 'accuracy',
        rank_metaindex: 2,
        validation_youden: 0.1,
        rank_youden: 2,
      },
      {
        name: 'B',
        features: ['b', 'c'],
        metaindex: 0.8,
        metaindex_metric: 'accuracy',
        rank_metaindex: 1,
        validation_youden: 0.5,
        rank_youden: 1,
      },
    ],
    table: [
      {
        signature: 'A',
        model: 'knn',
        n_features: 1,
        train: { accuracy: 0.7 },
        cv: { accuracy: 0.6 },
        cv_std: { accuracy: 0.05 },
        test: { accuracy: 0.6 },
        validation: { accuracy: 0.55 },
      },
      {
        signature: 'B',
        model: 'knn',
        n_features: 2,
        train: { accuracy: 0.9 },
        cv: { accuracy: 0.8 },
        cv_std: { accuracy: 0.04 },
        test: { accuracy: 0.8 },
        validation: { accuracy: null },
      },
    ],
    recommended: {
      signature: 'B',
      features: ['b', 'c'],
      metaindex: 0.8,
      validation_youden: 0.5,
      cv_score: 0.8,
      reasons: ['highest metaindex'],
    },
  };
  const rows = benchmarkRows('BENCHMARKING', data);
  expect(rows.map(r => [r.signature, r.rank, r.metaindex, r.features])).toEqual([
    ['B', 1, 0.8, ['b', 'c']],
    ['A', 2, 0.6, ['a']],
  ]);
  expect(rows[0]!.cv).toEqual([{ name: 'accuracy', value: 0.8, std: 0.04 }]);
  expect(rows[0]!.validation).toEqual([{ name: 'accuracy', value: null, std: null }]);
  expect(recommendation('BENCHMARKING', data)).toMatchObject({
    signature: 'B',
    reasons: ['highest metaindex'],
    cvScore: 0.8,
  });
  // The same document read as another type gives nothing.
  expect(benchmarkRows('FEATURE_SELECTION', data)).toEqual([]);
  // Older documents without cv_folds: no fold rows (not an error).
  expect(foldRows('BENCHMARKING', data, {})).toEqual([]);
});

test('BENCHMARKING folds: each signature × model row’s cv_folds, in the benchmark order', () => {
  const cvFolds = (base: number) =>
    [0, 1].flatMap(repeat =>
      [0, 1].map(fold => ({
        repeat,
        fold,
        n_train: 30,
        n_test: 10,
        metrics: { accuracy: base + repeat * 10 + fold },
        train_metrics: { accuracy: 0.99 },
        selected: ['a'],
      })),
    );
  const data = {
    signatures: [
      { name: 'A', features: ['a'], rank_metaindex: 2 },
      { name: 'B', features: ['b'], rank_metaindex: 1 },
    ],
    table: [
      { signature: 'A', model: 'knn', cv_folds: cvFolds(0.5) },
      { signature: 'A', model: 'svm', cv_folds: cvFolds(0.6) },
      { signature: 'B', model: 'knn', cv_folds: cvFolds(0.7) },
      { signature: 'B', model: 'svm', cv_folds: 'not a list' },
    ],
  };
  const rows = foldRows('BENCHMARKING', data, {});
  expect(rows).toHaveLength(12);
  expect(rows.map(r => `${r.signature}/${r.model}/${r.index}:${r.repeat}.${r.fold}`)).toEqual([
    'B/knn/0:0.0',
    'B/knn/1:0.1',
    'B/knn/2:1.0',
    'B/knn/3:1.1',
    'A/knn/0:0.0',
    'A/knn/1:0.1',
    'A/knn/2:1.0',
    'A/knn/3:1.1',
    'A/svm/0:0.0',
    'A/svm/1:0.1',
    'A/svm/2:1.0',
    'A/svm/3:1.1',
  ]);
  expect(rows[3]).toMatchObject({
    nTrain: 30,
    nTest: 10,
    metrics: [{ name: 'accuracy', value: 11.7, std: null }],
    trainMetrics: [{ name: 'accuracy', value: 0.99, std: null }],
    selected: ['a'],
    modelParams: null,
    seconds: null,
  });
  // Non-benchmark folds carry the job's model and no signature.
  const mt = foldRows(
    'MODEL_TRAINING',
    { model: 'svm', validation: { folds: [{ fold: 0, metrics: { accuracy: 1 } }] } },
    {},
  );
  expect(mt[0]).toMatchObject({ signature: null, model: 'svm', index: 0 });
});

test('PREDICTION: paged rows with class probabilities', () => {
  const data = {
    predictions: Array.from({ length: 5 }, (_, i) => ({
      sampleId: `S${i}`,
      label: i % 2 ? 'case' : 'ctrl',
      proba: { ctrl: 0.3, case: 0.7 },
    })),
    metrics: { accuracy: 0.6 },
  };
  expect(predictionCount('PREDICTION', data)).toBe(5);
  const page = predictionRows('PREDICTION', data, 3, 10);
  expect(page.map(r => r.sampleId)).toEqual(['S3', 'S4']);
  expect(page[0]!.probabilities).toEqual([
    { label: 'ctrl', probability: 0.3 },
    { label: 'case', probability: 0.7 },
  ]);
  expect(metricRows('PREDICTION', data)).toEqual([{ name: 'accuracy', value: 0.6, std: null }]);
});
