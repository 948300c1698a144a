/**
 * CSV tables of the typed result (sdk/src/result-tables.ts, used by `results export|download`):
 * metric lists become one column per metric, predictions one column per class, empty parts vanish.
 */
import { typedTables } from '../../../sdk/src/result-tables';
import { toCsv } from '../../../sdk/src/results';

type Result = Parameters<typeof typedTables>[0];

const m = (name: string, value: number | null, std: number | null = null) => ({ name, value, std });

function result(over: Partial<Result>): Result {
  return {
    attempt: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    summary: {},
    artifactKeys: [],
    params: null,
    metrics: [],
    signatures: [],
    features: [],
    folds: [],
    benchmark: [],
    recommended: null,
    comparisons: [],
    tuning: null,
    predictions: null,
    model: null,
    artifacts: [],
    ...over,
  } as Result;
}

test('an empty result has no tables', () => {
  expect(typedTables(result({}))).toEqual([]);
});

test('benchmark: one column per part × metric, cv std next to the means', () => {
  const row = {
    signature: 'A',
    features: ['g1', 'g2'],
    nFeatures: 2,
    model: 'knn',
    metaindex: 0.8,
    metaindexMetric: 'accuracy',
    rank: 1,
    validationYouden: 0.5,
    rankYouden: 1,
    train: [m('accuracy', 0.9)],
    cv: [m('accuracy', 0.8, 0.05), m('roc_auc', 0.85, 0.02)],
    test: [m('accuracy', 0.75)],
    validation: [m('accuracy', null)],
  };
  const [t] = typedTables(result({ benchmark: [row] }));
  expect(t!.name).toBe('benchmark');
  const col = (c: string) => t!.rows[0]![t!.columns.indexOf(c)];
  expect(col('cv_accuracy')).toBe(0.8);
  expect(col('cv_std_accuracy')).toBe(0.05);
  expect(col('cv_std_roc_auc')).toBe(0.02);
  // A metric a part lacks is an empty cell, not a shifted column.
  expect(col('train_roc_auc')).toBeNull();
  expect(col('validation_accuracy')).toBeNull();
  expect(col('features')).toBe('g1;g2');
  expect(toCsv(t!).split('\n')[1]).toContain(',0.8,0.85,0.05,0.02,');
});

test('folds and predictions: wide metric and class columns', () => {
  const tables = typedTables(
    result({
      folds: [
        {
          signature: null,
          model: 'knn',
          index: 0,
          repeat: 0,
          fold: 0,
          nTrain: 8,
          nTest: 2,
          selected: ['a'],
          seconds: 0.1,
          metrics: [m('roc_auc', 1)],
          trainMetrics: null,
        },
      ],
      predictions: {
        totalCount: 2,
        offset: 0,
        rows: [
          {
            sampleId: 'S1',
            label: 'case',
            value: null,
            risk: null,
            probabilities: [
              { class: 'ctrl', probability: 0.2 },
              { class: 'case', probability: 0.8 },
            ],
          },
        ],
      },
    }),
  );
  expect(tables.map(t => t.name)).toEqual(['folds', 'predictions']);
  expect(tables[0]!.columns).toEqual([
    'index',
    'repeat',
    'fold',
    'n_train',
    'n_test',
    'roc_auc',
    'n_selected',
    'selected',
  ]);
  expect(tables[1]!.columns).toEqual([
    'sample_id',
    'label',
    'value',
    'risk',
    'proba_ctrl',
    'proba_case',
  ]);
  expect(tables[1]!.rows[0]).toEqual(['S1', 'case', null, null, 0.2, 0.8]);
});

test('benchmark folds: signature and model columns first', () => {
  const fold = (signature: string, model: string, index: number) => ({
    signature,
    model,
    index,
    repeat: 0,
    fold: index,
    nTrain: 8,
    nTest: 2,
    selected: ['a', 'b'],
    seconds: null,
    metrics: [m('accuracy', 0.5 + index / 4)],
    trainMetrics: [m('accuracy', 1)],
  });
  const [t] = typedTables(result({ folds: [fold('sig', 'knn', 0), fold('sig', 'svm', 1)] }));
  expect(t!.columns.slice(0, 4)).toEqual(['signature', 'model', 'index', 'repeat']);
  expect(t!.columns).toContain('train_accuracy');
  expect(t!.rows.map(r => r.slice(0, 3))).toEqual([
    ['sig', 'knn', 0],
    ['sig', 'svm', 1],
  ]);
  expect(t!.rows[1]![t!.columns.indexOf('accuracy')]).toBe(0.75);
});
