/** Evaluation beyond binary outcomes, with registered models: survival CV, continuous benchmark. */
import { makeDataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { benchmark } from '../../../../compute/evaluation/benchmark';
import { crossValidate } from '../../../../compute/evaluation/cross-validate';

describe('crossValidate on survival data', () => {
  it('cox model: c_index / uno_c well above 0.5 on a true signal, IBS below the null 0.25', async () => {
    const rng = new Rng(4);
    const n = 150;
    const p = 6;
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    const time = new Float64Array(n);
    const event = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const lp = 0.9 * data[i]! - 0.7 * data[n + i]!;
      const t = -Math.log(1 - rng.random()) / Math.exp(lp);
      const c = -Math.log(1 - rng.random()) * 2;
      time[i] = Math.min(t, c);
      event[i] = t <= c ? 1 : 0;
    }
    const ds = makeDataset({
      data,
      nSamples: n,
      featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
      outcome: { kind: 'survival', time, event },
    });
    const r = await crossValidate(
      { model: { code: 'cox' } },
      ds,
      { code: 'survival_stratified', args: { n_splits: 5 } },
      { ...quietContext(2), threads: 1 },
    );
    expect(Object.keys(r.metrics)).toEqual(['c_index', 'uno_c', 'integrated_brier']);
    expect(r.metrics.c_index).toBeGreaterThan(0.65);
    expect(r.metrics.uno_c).toBeGreaterThan(0.65);
    expect(r.metrics.integrated_brier).toBeGreaterThan(0);
    expect(r.metrics.integrated_brier).toBeLessThan(0.25);
  });
});

describe('benchmark on a continuous outcome', () => {
  it('ranks by the R² metaindex, has no Youden, and prefers the true signature', async () => {
    const rng = new Rng(9);
    const n = 80;
    const p = 8;
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    const values = Float64Array.from(
      { length: n },
      (_, i) => 2 * data[i]! + data[n + i]! + 0.3 * rng.normal(),
    );
    const ds = makeDataset({
      data,
      nSamples: n,
      featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
      outcome: { kind: 'continuous', values },
    });
    const r = await benchmark(
      ds,
      {
        signatures: [
          { name: 'noise', features: ['x5', 'x6'] },
          { name: 'truth', features: ['x1', 'x2'] },
        ],
        models: [{ code: 'knn' }],
        cv: { n_splits: 3, n_repeats: 1 },
      },
      { ...quietContext(1), threads: 1 },
    );
    expect(r.task).toBe('continuous');
    expect(r.signatures[0]!.metaindex_metric).toBe('r2');
    expect(r.recommended.signature).toBe('truth');
    expect(r.signatures.every(s => Number.isNaN(s.validation_youden))).toBe(true);
    expect(r.table.find(x => x.signature === 'truth')!.validation.r2).toBeGreaterThan(0.5);
  });
});
