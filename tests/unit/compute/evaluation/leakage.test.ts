/**
 * THE leakage test. On random labels there is nothing to learn, so an honest evaluation reports
 * AUC ≈ 0.5. Selecting features on all samples first and cross-validating afterwards (what the
 * predecessor did) finds noise features that separate the classes by chance and reports an
 * optimistic AUC. Our crossValidate re-runs selection inside every training fold.
 *
 * Three seeded datasets (n=100, p=2000) are averaged: a single null dataset's CV AUC varies with
 * SD ≈ 0.045 across datasets (and CV on null data is known to lean slightly below 0.5), and one
 * 20-sample validation AUC has SD ≈ 0.13, so single draws would make a fragile assertion.
 */
import { subsetSamples } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { crossValidate } from '../../../../compute/evaluation/cross-validate';
import { fitPipeline, type Pipeline } from '../../../../compute/evaluation/pipeline';
import { scoreAll } from '../../../../compute/metrics';
import { getSelector } from '../../../../compute/registry';
import { parseArgs } from '../../../../compute/core/args';
import { trainTestValidationSplit } from '../../../../compute/resampling/holdout';
import { syntheticBinary, testResolver, tSelector } from './helpers';

const resolver = testResolver();
const pipeline: Pipeline = {
  selectors: [{ code: 'test_t', k: 10 }],
  model: { code: 'test_centroid' },
};
const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;

describe('leak-free evaluation on random labels (n=100, p=2000)', () => {
  it('reports CV and validation AUC near 0.5, while select-then-CV is optimistic', async () => {
    const cvAucs: number[] = [];
    const valAucs: number[] = [];
    const leakyAucs: number[] = [];
    for (const seed of [1, 2, 3]) {
      const ds = syntheticBinary(seed, 100, 2000);
      const cv = await crossValidate(
        pipeline,
        ds,
        { code: 'repeated', args: { n_splits: 5, n_repeats: 3 } },
        quietContext(seed),
        { resolver, metrics: ['roc_auc', 'accuracy'] },
      );
      expect(cv.folds).toHaveLength(15);
      cvAucs.push(cv.metrics.roc_auc!);
      // nothing is stable on noise: no feature is chosen in every fold
      expect(Math.max(...Object.values(cv.selection_frequency))).toBeLessThan(1);

      // Validation: fit on the training split only, score the untouched validation split.
      for (let s = 0; s < 4; s++) {
        const split = trainTestValidationSplit(
          ds,
          { test_size: 0.2, validation_size: 0.2, stratify: true },
          new Rng(100 * seed + s),
        );
        const fitted = await fitPipeline(
          pipeline,
          subsetSamples(ds, split.train),
          quietContext(s),
          resolver,
        );
        const val = subsetSamples(ds, split.validation);
        valAucs.push(scoreAll(['roc_auc'], val.outcome, fitted.predict(val)).roc_auc!);
      }

      // The predecessor's bug: select the top 10 on ALL samples, then cross-validate the model.
      const leakySel = await tSelector.run(ds, { min_abs_t: 2 }, quietContext(1), 10);
      const leaky = await crossValidate(
        { features: leakySel.selected, model: { code: 'test_centroid' } },
        ds,
        { code: 'repeated', args: { n_splits: 5, n_repeats: 3 } },
        quietContext(seed),
        { resolver, metrics: ['roc_auc'] },
      );
      leakyAucs.push(leaky.metrics.roc_auc!);
    }
    console.log(
      `random labels: leak-free CV AUC ${cvAucs.map(a => a.toFixed(3))}, validation AUC mean ${mean(valAucs).toFixed(3)} (12 splits), select-then-CV AUC ${leakyAucs.map(a => a.toFixed(3))}`,
    );
    expect(Math.abs(mean(cvAucs) - 0.5)).toBeLessThan(0.12);
    expect(Math.abs(mean(valAucs) - 0.5)).toBeLessThan(0.12);
    for (const a of leakyAucs) expect(a).toBeGreaterThan(0.7);
  });

  it('same with the registered t_test selector and knn model (worker threads when built)', async () => {
    const cvAucs: number[] = [];
    const leakyAucs: number[] = [];
    const tTest = getSelector('t_test');
    for (const seed of [1, 2, 3]) {
      const ds = syntheticBinary(seed, 100, 2000);
      const cv = await crossValidate(
        { selectors: [{ code: 't_test', k: 10 }], model: { code: 'knn' } },
        ds,
        { code: 'repeated', args: { n_splits: 5, n_repeats: 2 } },
        quietContext(seed),
        { metrics: ['roc_auc'] },
      );
      cvAucs.push(cv.metrics.roc_auc!);
      const sel = await tTest.run(ds, parseArgs(tTest.args, {}) as never, quietContext(1), 10);
      const leaky = await crossValidate(
        { features: sel.selected, model: { code: 'knn' } },
        ds,
        { code: 'repeated', args: { n_splits: 5, n_repeats: 2 } },
        quietContext(seed),
        { metrics: ['roc_auc'] },
      );
      leakyAucs.push(leaky.metrics.roc_auc!);
    }
    console.log(
      `registered t_test + knn: leak-free CV AUC ${cvAucs.map(a => a.toFixed(3))}, select-then-CV ${leakyAucs.map(a => a.toFixed(3))}`,
    );
    expect(Math.abs(mean(cvAucs) - 0.5)).toBeLessThan(0.12);
    for (const a of leakyAucs) expect(a).toBeGreaterThan(0.7);
  });
});
