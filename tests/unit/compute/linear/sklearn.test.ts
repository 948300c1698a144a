/**
 * Float64 linear methods against scikit-learn 1.2 (scripts/fixtures/linear.py).
 *
 * Tolerances (absolute, on the coefficient scale stated):
 * - Lasso / ElasticNet at fixed alpha, standardised and raw features: 1e-4 (observed ~1e-10);
 * - lasso_path (100 alphas, eps 1e-3): same alphas (relative 1e-10), coefficients 1e-4;
 * - LogisticRegression at fixed C (l2, l1, elasticnet, none; binary and multinomial):
 *   coefficients and intercepts 1e-4, predict_proba 1e-5;
 * - LinearSVC l2 (linear_svm model; reference dual=False) and l1 (l1_svm on standardised
 *   features): 1e-4 relative to max(1, |w|), decision values 1e-4. Where liblinear's l1 solver
 *   hit max_iter (p > n) the reference is not converged: our primal objective must then be ≤
 *   liblinear's instead;
 * - Ridge and LinearRegression: 1e-8; for p > n the reference is the exact minimum-norm
 *   solution (numpy pinv of the centred matrix), see scripts/fixtures/linear.py.
 */
import { fromRows, makeDataset, type Outcome } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { fitElnet } from '../../../../compute/linear/elnet';
import { type LinearModel } from '../../../../compute/linear/model';
import { DEFAULT_CONTROL, originalScale, workingScale } from '../../../../compute/linear/path';
import { fitLinearSvc } from '../../../../compute/linear/svm';
import { linearRegression } from '../../../../compute/models/linear_regression';
import { linearSvm } from '../../../../compute/models/linear_svm';
import { logisticRegression } from '../../../../compute/models/logistic_regression';
import { ridgeModel } from '../../../../compute/models/ridge';
import { columnMajor, loadGolden } from './golden';

const COEF_TOL = 1e-4;
const PROBA_TOL = 1e-5;
const CLOSED_FORM_TOL = 1e-8;
/** glmnet's criterion (max xv·Δβ² < tol·var y) needs a very small tol on the ill-conditioned p ≫ n
 * problems to reach scikit-learn's duality-gap-converged solution to 1e-4. */
const TIGHT = { ...DEFAULT_CONTROL, tol: 1e-16, maxIter: 1e8, earlyStop: false };

interface GaussianFixture {
  n: number;
  p: number;
  x: number[][];
  y: number[];
  fits: {
    l1_ratio: number;
    alpha: number;
    coef_std: number[];
    intercept_std: number;
    coef_raw: number[];
    intercept_raw: number;
  }[];
  path_alphas: number[];
  path_index: number[];
  path_coef: number[][];
}

interface ClassFixture {
  n: number;
  p: number;
  n_classes: number;
  x: number[][];
  y: number[];
  fits: {
    penalty: 'l2' | 'l1' | 'elasticnet' | 'none';
    C: number;
    l1_ratio: number;
    coef: number[][];
    intercept: number[];
    objective: number;
    proba: number[][];
  }[];
  svc: {
    C: number;
    l1_coef_std: number[][];
    l1_intercept_std: number[];
    l1_converged: boolean;
    l1_objective: number[];
    l2_coef: number[][];
    l2_intercept: number[];
    l2_converged: boolean;
    l2_objective: number[];
    l2_decision: number[] | number[][];
  }[];
}

interface OlsFixture {
  n: number;
  p: number;
  x: number[][];
  y: number[];
  ols_coef: number[];
  ols_intercept: number;
  ridge: { alpha: number; coef: number[]; intercept: number }[];
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.each(['gaussian', 'gaussian_wide'])('sklearn %s', name => {
  const g = loadGolden<GaussianFixture>(`sklearn_${name}.json`);
  const data = columnMajor(g.x);
  const target = { family: 'gaussian' as const, y: g.y };

  test.each(g.fits.map(f => [f.l1_ratio, f.alpha, f] as const))(
    'Lasso/ElasticNet l1_ratio %s alpha %s',
    (l1Ratio, alpha, f) => {
      for (const standardize of [true, false]) {
        const res = fitElnet(data, g.n, g.p, null, target, {
          l1Ratio,
          lambdas: [alpha],
          nLambda: 1,
          eps: 1,
          standardize,
          intercept: true,
          control: TIGHT,
        });
        if (standardize) {
          // scikit-learn was fitted on the standardised matrix: compare working-scale coefficients.
          expect(maxAbs(workingScale(res.fit, g.p, 0), f.coef_std)).toBeLessThanOrEqual(COEF_TOL);
          expect(Math.abs(res.fit.intercepts[0]![0]! - f.intercept_std)).toBeLessThanOrEqual(
            COEF_TOL,
          );
        } else {
          const { beta, intercept } = originalScale(res.fit, res.scale, 0);
          expect(maxAbs(beta, f.coef_raw)).toBeLessThanOrEqual(COEF_TOL);
          expect(Math.abs(intercept[0]! - f.intercept_raw)).toBeLessThanOrEqual(COEF_TOL);
        }
      }
    },
  );

  test('lasso_path', () => {
    const res = fitElnet(data, g.n, g.p, null, target, {
      l1Ratio: 1,
      nLambda: 100,
      eps: 1e-3,
      standardize: true,
      intercept: true,
      control: TIGHT,
    });
    expect(res.fit.lambdas.length).toBe(100);
    g.path_alphas.forEach((a, m) => {
      expect(Math.abs(res.fit.lambdas[m]! - a)).toBeLessThanOrEqual(1e-10 * a);
    });
    g.path_index.forEach((m, t) => {
      expect(maxAbs(workingScale(res.fit, g.p, m), g.path_coef[t]!)).toBeLessThanOrEqual(COEF_TOL);
    });
  });
});

function classDataset(g: ClassFixture) {
  const labels = Int32Array.from(g.y);
  const classes = Array.from({ length: g.n_classes }, (_, c) => String(c));
  const outcome: Outcome =
    g.n_classes === 2
      ? { kind: 'binary', labels, classes: ['0', '1'] }
      : { kind: 'multiclass', labels, classes };
  return makeDataset({
    data: columnMajor(g.x),
    nSamples: g.n,
    featureNames: Array.from({ length: g.p }, (_, j) => `f${j}`),
    outcome,
  });
}

describe.each(['binary', 'multiclass', 'binary_wide'])('sklearn %s', name => {
  const g = loadGolden<ClassFixture>(`sklearn_${name}.json`);
  const ds = classDataset(g);

  test.each(g.fits.map(f => [f.penalty, f.C, f] as const))(
    'LogisticRegression penalty %s C %s',
    async (penalty, C, f) => {
      const model = (await logisticRegression.fit(
        ds,
        { penalty, C, l1_ratio: f.l1_ratio, fit_intercept: true, max_iter: 1e7, tol: 1e-13 },
        quietContext(),
      )) as LinearModel;
      const coef = model.state.coef;
      expect(maxAbs(coef, f.coef.flat())).toBeLessThanOrEqual(COEF_TOL);
      expect(model.state.info.converged).toBe(true);
      expect(maxAbs(model.state.intercept, f.intercept)).toBeLessThanOrEqual(COEF_TOL);
      const head = fromRows(
        Array.from({ length: 5 }, (_, i) => g.x.map(col => col[i]!)),
        ds.featureNames,
      );
      const pred = model.predict(head);
      if (pred.kind !== 'class') throw new Error('expected class prediction');
      expect(maxAbs(pred.proba, f.proba.flat())).toBeLessThanOrEqual(PROBA_TOL);
    },
  );

  test.each(g.svc.map(s => [s.C, s] as const))('LinearSVC C %s', async (C, s) => {
    const labels = (ds.outcome as { labels: Int32Array }).labels;
    const l1 = fitLinearSvc(ds.data, g.n, g.p, labels, g.n_classes, {
      C,
      penalty: 'l1',
      interceptScaling: 1,
      tol: 1e-12,
      maxIter: 1e6,
      standardize: true,
    });
    if (s.l1_converged) {
      const ref1 = s.l1_coef_std.flat();
      for (let i = 0; i < ref1.length; i++) {
        expect(Math.abs(l1.coefWorking[i]! - ref1[i]!)).toBeLessThanOrEqual(
          COEF_TOL * Math.max(1, Math.abs(ref1[i]!)),
        );
      }
    } else {
      // liblinear hit max_iter: ours must reach at least its objective.
      const ours = svcObjective(ds, l1.coefWorking, l1.interceptWorking, C, 'l1', true);
      ours.forEach((o, c) => expect(o).toBeLessThanOrEqual(s.l1_objective[c]! * (1 + 1e-12)));
    }
    const model = (await linearSvm.fit(
      ds,
      { C, fit_intercept: true, intercept_scaling: 1, tol: 1e-12, max_iter: 1e6 },
      quietContext(),
    )) as LinearModel;
    expect(s.l2_converged).toBe(true);
    const ref2 = s.l2_coef.flat();
    for (let i = 0; i < ref2.length; i++) {
      expect(Math.abs(model.state.coef[i]! - ref2[i]!)).toBeLessThanOrEqual(
        COEF_TOL * Math.max(1, Math.abs(ref2[i]!)),
      );
    }
    expect(maxAbs(model.state.intercept, s.l2_intercept)).toBeLessThanOrEqual(COEF_TOL);
    const head = fromRows(
      Array.from({ length: 5 }, (_, i) => g.x.map(col => col[i]!)),
      ds.featureNames,
    );
    expect(maxAbs(model.decision(head), s.l2_decision.flat())).toBeLessThanOrEqual(COEF_TOL);
  });
});

/** LinearSVC primal objective per output (bias penalised), on standardised or raw features. */
function svcObjective(
  ds: ReturnType<typeof classDataset>,
  coef: Float64Array,
  intercept: Float64Array,
  C: number,
  penalty: 'l1' | 'l2',
  standardize: boolean,
): number[] {
  const { nSamples: n, nFeatures: p } = ds;
  const x = Float64Array.from(ds.data);
  if (standardize) {
    for (let j = 0; j < p; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[j * n + i]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[j * n + i]! - m) ** 2;
      const sd = Math.sqrt(v / n);
      for (let i = 0; i < n; i++) x[j * n + i] = (x[j * n + i]! - m) / sd;
    }
  }
  const labels = (ds.outcome as { labels: Int32Array }).labels;
  const K = intercept.length;
  return Array.from({ length: K }, (_, c) => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const y = labels[i] === (K === 1 ? 1 : c) ? 1 : -1;
      let f = intercept[c]!;
      for (let j = 0; j < p; j++) f += coef[c * p + j]! * x[j * n + i]!;
      const m = Math.max(0, 1 - y * f);
      loss += m * m;
    }
    let pen = penalty === 'l1' ? Math.abs(intercept[c]!) : 0.5 * intercept[c]! ** 2;
    for (let j = 0; j < p; j++) {
      const w = coef[c * p + j]!;
      pen += penalty === 'l1' ? Math.abs(w) : 0.5 * w * w;
    }
    return C * loss + pen;
  });
}

describe.each(['ols', 'ols_wide'])('sklearn %s', name => {
  const g = loadGolden<OlsFixture>(`sklearn_${name}.json`);
  const ds = makeDataset({
    data: columnMajor(g.x),
    nSamples: g.n,
    featureNames: Array.from({ length: g.p }, (_, j) => `f${j}`),
    outcome: { kind: 'continuous', values: Float64Array.from(g.y) },
  });

  test('LinearRegression', async () => {
    const m = (await linearRegression.fit(
      ds,
      { fit_intercept: true },
      quietContext(),
    )) as LinearModel;
    expect(maxAbs(m.state.coef, g.ols_coef)).toBeLessThanOrEqual(CLOSED_FORM_TOL);
    expect(Math.abs(m.state.intercept[0]! - g.ols_intercept)).toBeLessThanOrEqual(CLOSED_FORM_TOL);
  });

  test.each(g.ridge.map(r => [r.alpha, r] as const))('Ridge alpha %s', async (alpha, r) => {
    const m = (await ridgeModel.fit(
      ds,
      { alpha, fit_intercept: true },
      quietContext(),
    )) as LinearModel;
    expect(maxAbs(m.state.coef, r.coef)).toBeLessThanOrEqual(CLOSED_FORM_TOL);
    expect(Math.abs(m.state.intercept[0]! - r.intercept)).toBeLessThanOrEqual(CLOSED_FORM_TOL);
  });
});
