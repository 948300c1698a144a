import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classLabels } from '../../../../compute/core/dataset';
import { quietContext, type ModelDef } from '../../../../compute/core/method';
import { benchmark, type BenchmarkSpec } from '../../../../compute/evaluation/benchmark';
import { correctedResampledTTest } from '../../../../compute/evaluation/ttest';
import { harmonicMean, meanStd } from '../../../../compute/evaluation/summary';
import { centroidModel, seenIds, syntheticBinary, testResolver } from './helpers';

/** Always predicts the training prior (accuracy ≈ majority share, AUC 0.5). */
const priorModel: ModelDef<never> = {
  ...(centroidModel as unknown as ModelDef<never>),
  code: 'test_prior',
  args: {},
  async fit(ds) {
    const { labels, classes } = classLabels(ds);
    const p1 = labels.reduce((a, b) => a + b, 0) / labels.length;
    return {
      code: 'test_prior',
      featureNames: ds.featureNames,
      predict: d => {
        const proba = new Float64Array(2 * d.nSamples);
        for (let i = 0; i < d.nSamples; i++) {
          proba[2 * i] = 1 - p1;
          proba[2 * i + 1] = p1;
        }
        return {
          kind: 'class',
          labels: new Int32Array(d.nSamples).fill(p1 > 0.5 ? 1 : 0),
          proba,
          classes,
        };
      },
      save: () => ({
        code: 'test_prior',
        version: 1,
        featureNames: ds.featureNames,
        params: {},
        state: p1,
      }),
    };
  },
};

describe('corrected resampled t-test', () => {
  it('matches the scipy reference (t to 1e-12, p to 1e-10)', () => {
    const cases = JSON.parse(
      readFileSync(join(__dirname, '../../../fixtures/golden/metrics/ttest.json'), 'utf8'),
    ) as Array<{ a: number[]; b: number[]; n_train: number; n_test: number; t: number; p: number }>;
    for (const c of cases) {
      const r = correctedResampledTTest(c.a, c.b, c.n_train, c.n_test);
      expect(Math.abs(r.t - c.t)).toBeLessThan(1e-12);
      expect(Math.abs(r.p_value - c.p)).toBeLessThan(1e-10);
      expect(r.df).toBe(c.a.length - 1);
    }
  });

  it('harmonic mean as the metaindex uses it', () => {
    expect(harmonicMean([0.5, 1])).toBeCloseTo(2 / 3, 12);
    expect(harmonicMean([0.9, 0])).toBe(0);
    expect(harmonicMean([0.9, NaN])).toBeNaN();
  });
});

describe('benchmark', () => {
  const ds = syntheticBinary(41, 90, 150, 5, 1.6);
  const resolver = {
    ...testResolver(),
    model: (code: string) => (code === 'test_prior' ? priorModel : testResolver().model(code)),
  };
  const spec: BenchmarkSpec = {
    signatures: [
      { selector: { code: 'test_t', k: 5 } },
      { name: 'noise', features: ['g100', 'g101', 'g102', 'g103', 'g104'] },
      { name: 'truth', features: ['g1', 'g2', 'g3', 'g4', 'g5'] },
    ],
    models: [{ code: 'test_centroid' }, { code: 'test_prior' }],
    preprocess: [{ code: 'test_standardise' }],
    cv: { n_splits: 3, n_repeats: 2 },
  };

  it('builds the signature × model table, ranks by metaindex, recommends with reasons; leak-free', async () => {
    seenIds.clear();
    const stages: string[] = [];
    const ctx = { ...quietContext(7), progress: (_f: number, s: string) => stages.push(s) };
    const r = await benchmark(ds, spec, ctx, resolver);
    expect(r.split).toEqual({ n_train: 54, n_test: 18, n_validation: 18 });
    expect(r.cv.n_folds).toBe(6);
    expect(r.table).toHaveLength(6);
    for (const row of r.table) {
      for (const part of [row.train, row.cv, row.test, row.validation]) {
        expect(Number.isFinite(part.accuracy)).toBe(true);
        expect(part).toHaveProperty('roc_auc');
      }
    }
    // selection happened on the training split only (54 ids, never test / validation)
    expect(seenIds.size).toBe(54);
    const byName = Object.fromEntries(r.signatures.map(s => [s.name, s]));
    expect(byName.test_t!.features).toHaveLength(5);
    expect(byName.noise!.metaindex).toBeLessThan(byName.truth!.metaindex);
    expect(byName.noise!.rank_metaindex).toBe(3);
    expect(['truth', 'test_t']).toContain(r.recommended.signature);
    expect(r.recommended.reasons[0]).toMatch(/Highest metaindex among 3 signatures/);
    expect(r.recommended.reasons.join(' ')).toMatch(/corrected resampled t-test/);
    expect(r.comparisons).toHaveLength(2);
    expect(r.comparisons[0]!.a).toBe(r.recommended.signature);
    // metaindex = harmonic mean of the accuracy averaged over the two models on the three parts
    const t = byName.truth!;
    const rows = r.table.filter(x => x.signature === 'truth');
    const avg = (p: 'train' | 'test' | 'validation') =>
      (rows[0]![p].accuracy! + rows[1]![p].accuracy!) / 2;
    expect(t.metaindex).toBeCloseTo(
      harmonicMean([avg('train'), avg('test'), avg('validation')]),
      12,
    );
    const youden =
      (rows[0]!.validation.sensitivity! + rows[1]!.validation.sensitivity!) / 2 +
      (rows[0]!.validation.specificity! + rows[1]!.validation.specificity!) / 2 -
      1;
    expect(t.validation_youden).toBeCloseTo(youden, 12);
    expect(stages.some(s => s.startsWith('final truth × test_prior'))).toBe(true);

    // Per-fold rows: the scores the cv mean / sd are computed from, exactly.
    for (const row of r.table) {
      expect(row.cv_folds.map(f => [f.repeat, f.fold])).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 0],
        [1, 1],
        [1, 2],
      ]);
      for (const f of row.cv_folds) {
        expect(f.n_train + f.n_test).toBe(54);
        expect(Object.keys(f.metrics)).toEqual(r.metrics);
        expect(Object.keys(f.train_metrics)).toEqual(r.metrics);
        expect(f.selected).toHaveLength(5);
      }
      // each repeat's test folds partition the training split
      for (const rep of [0, 1]) {
        const folds = row.cv_folds.filter(f => f.repeat === rep);
        expect(folds.reduce((a, f) => a + f.n_test, 0)).toBe(54);
      }
      for (const name of r.metrics) {
        const st = meanStd(row.cv_folds.map(f => f.metrics[name]!));
        expect(st.mean).toBe(row.cv[name]);
        expect(st.std).toBe(row.cv_std[name]);
      }
      const hand = row.cv_folds.map(f => f.metrics.accuracy!);
      expect(row.cv.accuracy).toBeCloseTo(hand.reduce((a, b) => a + b, 0) / hand.length, 14);
    }
    // fixed signatures keep their features in every fold; the selector re-selects per fold
    const truthRow = r.table.find(x => x.signature === 'truth')!;
    for (const f of truthRow.cv_folds) expect(f.selected).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    // the two models of a signature share the fold's selection, not its scores
    const [ta, tb] = r.table.filter(x => x.signature === 'test_t');
    expect(ta!.cv_folds.map(f => f.selected)).toEqual(tb!.cv_folds.map(f => f.selected));
    // the prior model predicts the training majority: its training accuracy is the majority share
    const prior = r.table.find(x => x.signature === 'truth' && x.model === 'test_prior')!;
    for (const f of prior.cv_folds) expect(f.train_metrics.roc_auc).toBe(0.5);

    const again = await benchmark(ds, spec, quietContext(7), resolver);
    expect({ ...again, seconds: 0 }).toEqual({ ...r, seconds: 0 });
  });

  it('rejects duplicate names, empty lists and unknown features', async () => {
    await expect(
      benchmark(
        ds,
        {
          ...spec,
          signatures: [
            { features: ['g1'], name: 'a' },
            { features: ['g2'], name: 'a' },
          ],
        },
        quietContext(1),
        resolver,
      ),
    ).rejects.toThrow(/unique/);
    await expect(benchmark(ds, { ...spec, models: [] }, quietContext(1), resolver)).rejects.toThrow(
      /no models/,
    );
    const ac = new AbortController();
    ac.abort();
    await expect(benchmark(ds, spec, quietContext(1, ac.signal), resolver)).rejects.toThrow(
      /cancelled/,
    );
    await expect(
      benchmark(ds, { ...spec, signatures: [{ features: ['nope'] }] }, quietContext(1), resolver),
    ).rejects.toThrow(/"nope"/);
  });
});
