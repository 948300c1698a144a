import { subsetSamples } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { crossValidate } from '../../../../compute/evaluation/cross-validate';
import { fitPipeline, type Pipeline } from '../../../../compute/evaluation/pipeline';
import { makeFolds } from '../../../../compute/resampling';
import { seenIds, syntheticBinary, testResolver } from './helpers';

const resolver = testResolver();

describe('pipeline and crossValidate', () => {
  const ds = syntheticBinary(5, 60, 200, 5, 1.5);
  const pipeline: Pipeline = {
    preprocess: [{ code: 'test_standardise' }],
    selectors: [{ code: 'test_t', k: 8 }],
    model: { code: 'test_centroid' },
  };

  it('never lets a held-out sample reach preprocessing, selection, tuning or the model', async () => {
    const folds = makeFolds(ds, { code: 'stratified_kfold', args: { n_splits: 4 } }, new Rng(1));
    for (const fold of folds) {
      seenIds.clear();
      const tuned: Pipeline = {
        ...pipeline,
        model: { code: 'test_centroid', tune: { strategy: 'random', n_trials: 3 } },
      };
      await crossValidate(tuned, ds, [fold], quietContext(1), { resolver, metrics: ['roc_auc'] });
      const testIds = Array.from(fold.test, i => ds.sampleIds[i]!);
      expect(seenIds.size).toBe(fold.train.length);
      expect(testIds.some(id => seenIds.has(id))).toBe(false);
    }
  });

  it('finds planted signal, is deterministic for a seed and reports per-fold results', async () => {
    const run = () =>
      crossValidate(
        pipeline,
        ds,
        { code: 'stratified_kfold', args: { n_splits: 5 } },
        quietContext(3),
        {
          resolver,
          scoreTrain: true,
          keepPredictions: true,
        },
      );
    const a = await run();
    const b = await run();
    expect(a.metrics).toEqual(b.metrics);
    expect(a.task).toBe('binary');
    expect(a.metrics.roc_auc).toBeGreaterThan(0.8);
    expect(Object.keys(a.metrics)).toContain('youden');
    expect(a.folds).toHaveLength(5);
    for (const f of a.folds) {
      expect(f.selected).toHaveLength(8);
      expect(f.train_metrics!.roc_auc).toBeGreaterThanOrEqual(f.metrics.roc_auc! - 0.3);
      expect(f.test_index!.length).toBe(f.n_test);
    }
    // the 5 planted features dominate the selection frequencies
    const top = Object.entries(a.selection_frequency)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 5);
    expect(
      top.filter(([g]) => ['g1', 'g2', 'g3', 'g4', 'g5'].includes(g)).length,
    ).toBeGreaterThanOrEqual(4);
    expect(a.metrics_std.roc_auc).toBeGreaterThanOrEqual(0);
  });

  it('reports progress per fold and stops on abort', async () => {
    const seen: string[] = [];
    const ctx = { ...quietContext(1), progress: (_f: number, s: string) => seen.push(s) };
    await crossValidate(pipeline, ds, { code: 'kfold', args: { n_splits: 3 } }, ctx, { resolver });
    expect(seen).toEqual(['fold 1/3', 'fold 2/3', 'fold 3/3']);
    const ac = new AbortController();
    ac.abort();
    await expect(
      crossValidate(
        pipeline,
        ds,
        { code: 'kfold', args: { n_splits: 3 } },
        quietContext(1, ac.signal),
        { resolver },
      ),
    ).rejects.toThrow(/cancelled/);
  });

  it('fitted pipeline predicts new data by feature name after preprocessing', async () => {
    const train = subsetSamples(
      ds,
      Int32Array.from({ length: 40 }, (_, i) => i),
    );
    const fitted = await fitPipeline(
      { ...pipeline, features: ds.featureNames.slice(0, 50) },
      train,
      quietContext(1),
      resolver,
    );
    expect(fitted.features.every(f => ds.featureNames.slice(0, 50).includes(f))).toBe(true);
    const pred = fitted.predict(subsetSamples(ds, Int32Array.from([50, 51, 52])));
    expect(pred.kind).toBe('class');
    expect(() =>
      fitted.predict({ ...ds, featureNames: ds.featureNames.map(f => `x${f}`) }),
    ).toThrow(/not in the dataset/);
  });
});
