/** `keep_predictions` adds the held-out predictions to a benchmark without changing any score. */
import { quietContext } from '../../../../compute/core/method';
import { benchmark, type BenchmarkSpec } from '../../../../compute/evaluation/benchmark';
import { rocAuc } from '../../../../compute/metrics/ranking';
import { positiveScores } from '../../../../compute/metrics/types';
import { subsetSamples } from '../../../../compute/core/dataset';
import { syntheticBinary, testResolver } from '../evaluation/helpers';

it('same table and ranking with and without kept predictions; kept ones reproduce the AUC', async () => {
  const ds = syntheticBinary(8, 80, 30, 4, 1.4);
  const spec: BenchmarkSpec = {
    signatures: [
      { selector: { code: 'test_t', k: 4 } },
      { name: 'fixed', features: ['g9', 'g10'] },
    ],
    models: [{ code: 'test_centroid' }],
    cv: { n_splits: 3, n_repeats: 1 },
  };
  const plain = await benchmark(ds, spec, quietContext(2), testResolver());
  const kept = await benchmark(
    ds,
    { ...spec, keep_predictions: true },
    quietContext(2),
    testResolver(),
  );
  const { holdout, predictions, seconds: _s, ...rest } = kept;
  const { seconds: _s2, ...plainRest } = plain;
  expect(rest).toEqual(plainRest);
  expect(plain.predictions).toBeUndefined();
  expect(predictions).toHaveLength(2);
  const val = subsetSamples(ds, holdout!.validation);
  const labels = val.outcome.kind === 'binary' ? val.outcome.labels : new Int32Array();
  predictions!.forEach((p, s) => {
    const row = kept.table[s]!;
    expect(p).toMatchObject({ signature: row.signature, model: row.model });
    expect(rocAuc(labels, positiveScores(p.validation!))).toBeCloseTo(row.validation.roc_auc!, 12);
  });
});
