/**
 * Random forest: determinism (seed, thread count), OOB score, abort, save/load, missing values,
 * permutation importance, and recall of the informative features at least scikit-learn's at the
 * same settings (reference recall computed by scripts/fixtures/trees.py → recall.json; tolerance:
 * our mean recall over 5 seeds ≥ reference − 0.05, one feature in twenty).
 */
import { makeDataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { randomForestModel } from '../../../../compute/models/random_forest';
import { randomForestSelector } from '../../../../compute/selectors/random_forest';
import { forestArgs } from '../../../../compute/trees/rf';
import { parseArgs } from '../../../../compute/core/args';
import { datasetFrom, golden, synthetic } from './helpers';

const args = (over: Record<string, unknown> = {}) =>
  parseArgs(randomForestSelector.args, over) as never;

describe('random_forest selector', () => {
  const ds = synthetic(120, 60, 4, 'binary', 3);

  it('is reproducible for a seed and independent of the thread count', async () => {
    const a = await randomForestSelector.run(ds, args({ n_estimators: 40 }), {
      ...quietContext(5),
      threads: 1,
    });
    const b = await randomForestSelector.run(ds, args({ n_estimators: 40 }), {
      ...quietContext(5),
      threads: 3,
    });
    const c = await randomForestSelector.run(ds, args({ n_estimators: 40 }), {
      ...quietContext(6),
      threads: 1,
    });
    expect(b.scores).toEqual(a.scores);
    expect(b.selected).toEqual(a.selected);
    expect(c.scores).not.toEqual(a.scores);
  });

  it('ranks informative features first, keeps those above the mean importance, reports OOB', async () => {
    const r = await randomForestSelector.run(
      ds,
      args({ n_estimators: 100, oob_score: true }),
      quietContext(1),
    );
    expect(r.selected.slice(0, 2).every(f => ['g0', 'g1', 'g2', 'g3'].includes(f))).toBe(true);
    const total = Object.values(r.scores).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 10);
    const mean = 1 / 60;
    for (const f of r.selected) expect(r.scores[f]!).toBeGreaterThan(mean);
    expect(r.diagnostics.oob_score as number).toBeGreaterThan(0.6);
    expect(r.diagnostics.oob_score as number).toBeLessThanOrEqual(1);
  });

  it('top-k keeps exactly k', async () => {
    const r = await randomForestSelector.run(ds, args({ n_estimators: 20 }), quietContext(1), 5);
    expect(r.selected).toHaveLength(5);
  });

  it('permutation importance (OOB and train) puts informative features on top', async () => {
    for (const set of ['oob', 'train']) {
      const r = await randomForestSelector.run(
        ds,
        args({ n_estimators: 80, importance: 'permutation', permutation_set: set, n_repeats: 3 }),
        quietContext(2),
        4,
      );
      const hits = r.selected.filter(f => ['g0', 'g1', 'g2', 'g3'].includes(f)).length;
      expect(hits).toBeGreaterThanOrEqual(2);
      // noise features average ≈ 0: shuffling them barely changes the error
      const noise = Object.entries(r.scores).filter(([f]) => Number(f.slice(1)) >= 4);
      const noiseMean = noise.reduce((a, [, v]) => a + v, 0) / noise.length;
      expect(Math.abs(noiseMean)).toBeLessThan(r.scores[r.selected[0]!]! / 5);
    }
  });

  it('stops with AbortError when the signal fires', async () => {
    const ac = new AbortController();
    const ctx = { ...quietContext(1), signal: ac.signal, progress: () => ac.abort() };
    await expect(
      randomForestSelector.run(ds, args({ n_estimators: 200 }), ctx),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('works for multiclass and continuous outcomes', async () => {
    for (const kind of ['multiclass', 'continuous'] as const) {
      const d = synthetic(150, 30, 3, kind, 4);
      const r = await randomForestSelector.run(
        d,
        args({ n_estimators: 60, oob_score: true }),
        quietContext(1),
        3,
      );
      expect(r.selected.filter(f => ['g0', 'g1', 'g2'].includes(f)).length).toBeGreaterThanOrEqual(
        2,
      );
      expect(r.diagnostics.oob_score as number).toBeGreaterThan(0.2);
    }
  });
});

describe('random_forest model', () => {
  it('predicts probabilities, round-trips through save/load exactly', async () => {
    const train = synthetic(150, 20, 3, 'binary', 7);
    const test = synthetic(80, 20, 3, 'binary', 8);
    const m = await randomForestModel.fit(
      train,
      parseArgs(forestArgs, { n_estimators: 50 }) as never,
      quietContext(1),
    );
    const p = m.predict(test);
    if (p.kind !== 'class') throw new Error('expected class prediction');
    for (let i = 0; i < 80; i++) expect(p.proba[2 * i]! + p.proba[2 * i + 1]!).toBeCloseTo(1, 12);
    const truth = (test.outcome as { labels: Int32Array }).labels;
    const acc = p.labels.filter((l, i) => l === truth[i]).length / 80;
    expect(acc).toBeGreaterThan(0.7);
    const state = JSON.parse(JSON.stringify(m.save()));
    const m2 = randomForestModel.load(state);
    expect(m2.predict(test)).toEqual(p);
    expect(m2.importance!()).toEqual(m.importance!());
  });

  it('predicts a continuous outcome', async () => {
    const train = synthetic(200, 10, 2, 'continuous', 9);
    const m = await randomForestModel.fit(
      train,
      parseArgs(forestArgs, { n_estimators: 50 }) as never,
      quietContext(1),
    );
    const p = m.predict(train);
    if (p.kind !== 'value') throw new Error('expected values');
    const y = (train.outcome as { values: Float64Array }).values;
    let ss = 0;
    let st = 0;
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    for (let i = 0; i < y.length; i++) {
      ss += (y[i]! - p.values[i]!) ** 2;
      st += (y[i]! - mean) ** 2;
    }
    expect(1 - ss / st).toBeGreaterThan(0.7);
  });

  it('learns where missing values go', async () => {
    // feature 0 is missing exactly for class 1 rows: one split on "missing" separates the classes
    const n = 100;
    const data = new Float64Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      data[i] = labels[i] ? NaN : (i % 7) / 7;
      data[n + i] = (i % 5) / 5;
    }
    const ds = makeDataset({
      data,
      nSamples: n,
      featureNames: ['a', 'b'],
      outcome: { kind: 'binary', labels, classes: ['x', 'y'] },
    });
    const m = await randomForestModel.fit(
      ds,
      parseArgs(forestArgs, {
        n_estimators: 5,
        bootstrap: false,
        max_features: 'all',
        max_depth: 1,
      }) as never,
      quietContext(1),
    );
    const p = m.predict(ds);
    if (p.kind !== 'class') throw new Error('expected class prediction');
    expect(Array.from(p.labels)).toEqual(Array.from(labels));
  });
});

interface Recall {
  data: Record<string, { X: number[][]; y: number[] }>;
  informative: number;
  reference_recall: Record<string, number>;
  settings: { seeds: number[] };
}

describe('random_forest recall vs scikit-learn (same settings)', () => {
  it.each(['binary', 'continuous'])('%s', async kind => {
    const fx = golden<Recall>('recall.json');
    const d = fx.data[kind]!;
    const ds = datasetFrom(d.X, d.y, kind === 'binary' ? 'binary' : 'continuous');
    const k = fx.informative;
    let sum = 0;
    for (const seed of fx.settings.seeds) {
      const r = await randomForestSelector.run(
        ds,
        args({ n_estimators: 300 }),
        quietContext(seed),
        k,
      );
      sum += r.selected.filter(f => Number(f.slice(1)) <= k).length / k;
    }
    const ours = sum / fx.settings.seeds.length;
    expect(ours).toBeGreaterThanOrEqual(fx.reference_recall[`random_forest_${kind}`]! - 0.05);
  });
});
