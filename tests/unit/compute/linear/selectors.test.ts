/**
 * The glmnet-style selectors and l1_svm as registry methods: own rules, k, seeds, abort, and
 * agreement with the references on the golden data.
 *
 * Tolerances: fixed-alpha selections must equal the reference's non-zero set exactly (the
 * coefficients agree to 1e-10, far from the zero threshold); CV selections Jaccard ≥ 0.8 with
 * cv.glmnet; the same seed gives identical output; abort stops within one path point.
 */
import { makeDataset, type Outcome } from '../../../../compute/core/dataset';
import { quietContext, type RunContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { getSelector } from '../../../../compute/registry';
import { elasticNet } from '../../../../compute/selectors/elastic_net';
import { l1Svm } from '../../../../compute/selectors/l1_svm';
import { lasso } from '../../../../compute/selectors/lasso';
import { ridgeSelector } from '../../../../compute/selectors/ridge';
import { parseArgs } from '../../../../compute/core/args';
import { columnMajor, type GlmnetCase, jaccard, loadGolden } from './golden';

function glmnetDataset(name: string) {
  const g = loadGolden<GlmnetCase>(`glmnet_${name}.json`);
  const n = g.n[0]!;
  const p = g.p[0]!;
  const labels = Int32Array.from(g.y);
  const outcome: Outcome =
    g.family === 'gaussian'
      ? { kind: 'continuous', values: Float64Array.from(g.y) }
      : g.family === 'binomial'
        ? { kind: 'binary', labels, classes: ['a', 'b'] }
        : { kind: 'multiclass', labels, classes: g.classes! };
  const ds = makeDataset({
    data: columnMajor(g.x),
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
    outcome,
  });
  return { g, ds, p };
}

const args = (extra: Record<string, unknown> = {}) =>
  parseArgs(lasso.args, { tol: 1e-12, max_iter: 1e7, ...extra }) as never;

describe('registry', () => {
  test.each(['lasso', 'elastic_net', 'ridge', 'l1_svm'])('%s is registered', code => {
    const def = getSelector(code);
    expect(def.code).toBe(code);
    expect(def.tasks.length).toBeGreaterThan(0);
  });
});

describe.each(['gaussian', 'binomial_wide', 'multinomial'])('fixed alpha on %s', name => {
  const { g, ds, p } = glmnetDataset(name);
  const f = g.fits[0]!; // l1_ratio 1
  test('lasso keeps exactly glmnet non-zero coefficients', async () => {
    const m = 1;
    const res = await lasso.run(ds, args({ alpha: f.fixed_lambda[m] }), quietContext(), undefined);
    const expected: string[] = [];
    for (let j = 0; j < p; j++) {
      if (f.fixed_coef.some(cls => cls[j + 1]![m] !== 0)) expected.push(`g${j}`);
    }
    expect([...res.selected].sort()).toEqual(expected.sort());
    expect(res.diagnostics.chosen_alpha).toBe(f.fixed_lambda[m]);
    expect(res.backend).toBe('float64');
    // scores: selected ones are positive and ranked best first
    const sc = res.selected.map(s => res.scores[s]!);
    for (let i = 1; i < sc.length; i++) expect(sc[i - 1]!).toBeGreaterThanOrEqual(sc[i]!);
    expect(sc.every(v => v > 0)).toBe(true);
  });
  test('k keeps the top k by |standardised coefficient|', async () => {
    const res = await lasso.run(ds, args({ alpha: f.fixed_lambda[2] }), quietContext(), 3);
    expect(res.selected).toHaveLength(3);
    const all = Object.entries(res.scores).sort((a, b) => b[1] - a[1]);
    expect(res.selected).toEqual(all.slice(0, 3).map(e => e[0]));
  });
});

describe('cross-validated selection', () => {
  test('lasso CV with the default rule matches cv.glmnet lambda.min (Jaccard ≥ 0.8)', async () => {
    const { g, ds } = glmnetDataset('binomial');
    const res = await lasso.run(ds, args({ cv: 5 }), quietContext(7), undefined);
    const ref = g.fits[0]!.selected_min.map(j => `g${j}`);
    // Different (stratified, seeded) folds than glmnet's: the selection must still agree.
    expect(jaccard(res.selected, ref)).toBeGreaterThanOrEqual(0.8);
    const cv = res.diagnostics.cv as { cvm: number[]; alphas: number[] };
    expect(cv.cvm.length).toBe(cv.alphas.length);
  });

  test('same seed → identical output; elastic net 1se is sparser than min', async () => {
    const { ds } = glmnetDataset('gaussian_wide');
    const a = parseArgs(elasticNet.args, { l1_ratio: 0.7 }) as never;
    const r1 = await elasticNet.run(ds, a, quietContext(3), undefined);
    const r2 = await elasticNet.run(ds, a, quietContext(3), undefined);
    expect(r2).toEqual(r1);
    const se = await elasticNet.run(
      ds,
      parseArgs(elasticNet.args, { l1_ratio: 0.7, lambda_rule: '1se' }) as never,
      quietContext(3),
      undefined,
    );
    expect(se.selected.length).toBeLessThanOrEqual(r1.selected.length);
    expect(se.diagnostics.chosen_alpha as number).toBeGreaterThanOrEqual(
      r1.diagnostics.chosen_alpha as number,
    );
  });

  test('abort stops within one path point', async () => {
    const { ds } = glmnetDataset('multinomial_wide');
    const controller = new AbortController();
    let after = 0;
    const ctx: RunContext = {
      rng: new Rng(1),
      signal: controller.signal,
      progress: fraction => {
        if (controller.signal.aborted) after++;
        else if (fraction > 0.02) controller.abort(); // mid-path of the full-data fit
      },
    };
    await expect(lasso.run(ds, args(), ctx, undefined)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(after).toBeLessThanOrEqual(1);
  });
});

describe('ridge and l1_svm', () => {
  test('ridge own rule keeps every feature, ranked', async () => {
    const { ds, p } = glmnetDataset('gaussian');
    const res = await ridgeSelector.run(
      ds,
      parseArgs(ridgeSelector.args, { alpha: 0.5 }) as never,
      quietContext(),
      undefined,
    );
    expect(res.selected).toHaveLength(p);
    const sc = res.selected.map(s => res.scores[s]!);
    for (let i = 1; i < sc.length; i++) expect(sc[i - 1]!).toBeGreaterThanOrEqual(sc[i]!);
  });

  test('l1_svm selects LinearSVC(penalty=l1) non-zero weights', async () => {
    const g = loadGolden<{
      n: number;
      p: number;
      x: number[][];
      y: number[];
      svc: { C: number; l1_coef_std: number[][] }[];
    }>('sklearn_multiclass.json');
    const ds = makeDataset({
      data: columnMajor(g.x),
      nSamples: g.n,
      featureNames: Array.from({ length: g.p }, (_, j) => `f${j}`),
      outcome: { kind: 'multiclass', labels: Int32Array.from(g.y), classes: ['0', '1', '2'] },
    });
    for (const s of g.svc) {
      const res = await l1Svm.run(
        ds,
        parseArgs(l1Svm.args, { C: s.C, tol: 1e-10, max_iter: 100000 }) as never,
        quietContext(),
        undefined,
      );
      const expected = Array.from({ length: g.p }, (_, j) => j)
        .filter(j => s.l1_coef_std.some(w => w[j] !== 0))
        .map(j => `f${j}`);
      expect([...res.selected].sort()).toEqual(expected.sort());
    }
  });
});
