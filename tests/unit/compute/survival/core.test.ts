/**
 * Survival core against r-cran-survival / r-cran-glmnet (scripts/fixtures/survival.R).
 * Tolerances: Cox coefficients 1e-4 vs default coxph control, 1e-7 vs the tightly converged fit;
 * variances and Breslow survival curves 1e-6; Harrell's C and its pair counts exact (1e-12);
 * glmnet cox coefficients at fixed lambda 1e-4; cv.glmnet cvm / cvsd 1e-4 relative with the same
 * fold ids, same lambda.min / lambda.1se.
 */
import { breslowBaseline, cumhazAt } from '../../../../compute/survival/baseline';
import { harrellC } from '../../../../compute/survival/concordance';
import { coxFit } from '../../../../compute/survival/coxph';
import {
  coxnetCv,
  coxnetPath,
  lambdaPath,
  standardizeRows,
} from '../../../../compute/survival/coxnet';
import { univariateCox } from '../../../../compute/survival/univariate';
import { Rng } from '../../../../compute/core/rng';
import { golden } from '../misc/fixture';

interface CoxFx {
  n: number;
  p: number;
  X: number[][];
  time: number[];
  status: number[];
  efron_default: number[];
  efron: number[];
  efron_var: number[][];
  efron_loglik: number[];
  breslow: number[];
  breslow_var: number[][];
  ridge_theta: number[];
  ridge: number[];
  newx: number[][];
  surv_time: number[];
  surv: number[][];
  uni_coef: number[];
  uni_se: number[];
  uni_z: number[];
  uni_p: number[];
  uni_coef_default: number[];
  risk: number[];
  c_risk: number[];
  count_risk: number[];
  coarse: number[];
  c_coarse: number[];
  count_coarse: number[];
}

function colMajor(X: number[][]): Float64Array {
  const n = X.length;
  const p = X[0]!.length;
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) out[j * n + i] = X[i]![j]!;
  return out;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, rel = false): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    const scale = rel ? Math.max(1, Math.abs(b[i]!)) : 1;
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * scale);
  }
};

const fx = golden<CoxFx>('survival', 'coxph.json');
const x = colMajor(fx.X);
const time = Float64Array.from(fx.time);
const event = Uint8Array.from(fx.status);

describe('coxph (Efron / Breslow, Newton–Raphson)', () => {
  it('Efron coefficients and variance match survival::coxph', () => {
    const fit = coxFit(x, fx.n, fx.p, time, event, { ties: 'efron' });
    expect(fit.converged).toBe(true);
    close(fit.coef, fx.efron_default, 1e-4);
    close(fit.coef, fx.efron, 1e-7);
    close(fit.variance, fx.efron_var.flat(), 1e-6);
    close([fit.loglikNull, fit.loglik], fx.efron_loglik, 1e-7, true);
  });

  it('Breslow coefficients and variance match', () => {
    const fit = coxFit(x, fx.n, fx.p, time, event, { ties: 'breslow' });
    close(fit.coef, fx.breslow, 1e-7);
    close(fit.variance, fx.breslow_var.flat(), 1e-6);
  });

  it('ridge penalty matches coxph(ridge(theta, scale = FALSE))', () => {
    const fit = coxFit(x, fx.n, fx.p, time, event, { ties: 'efron', ridge: fx.ridge_theta[0]! });
    close(fit.coef, fx.ridge, 1e-6);
  });

  it('Breslow baseline gives survfit(ctype = 1) curves', () => {
    const fit = coxFit(x, fx.n, fx.p, time, event, { ties: 'efron' });
    const eta = new Float64Array(fx.n);
    for (let i = 0; i < fx.n; i++)
      for (let j = 0; j < fx.p; j++) eta[i] += (fx.X[i]![j]! - fit.means[j]!) * fit.coef[j]!;
    const base = breslowBaseline(eta, time, event);
    fx.newx.forEach((row, s) => {
      let lp = 0;
      row.forEach((v, j) => (lp += (v - fit.means[j]!) * fit.coef[j]!));
      const curve = fx.surv_time.map(t => Math.exp(-cumhazAt(base, t) * Math.exp(lp)));
      close(curve, fx.surv[s]!, 1e-6);
    });
  });

  it('univariate fits match per-feature coxph summaries', async () => {
    const res = await univariateCox(x, fx.n, fx.p, time, event, 'efron', { threads: 1 });
    close(res.coef, fx.uni_coef_default, 1e-4);
    close(res.coef, fx.uni_coef, 1e-8);
    close(res.se, fx.uni_se, 1e-8);
    close(res.z, fx.uni_z, 1e-7);
    close(res.p, fx.uni_p, 1e-9, true);
  });

  it("Harrell's C and pair counts equal survival::concordance exactly", () => {
    for (const [risk, c, count] of [
      [fx.risk, fx.c_risk, fx.count_risk],
      [fx.coarse, fx.c_coarse, fx.count_coarse],
    ] as const) {
      const r = harrellC(risk, time, event);
      expect(Math.abs(r.concordance - c[0]!)).toBeLessThan(1e-12);
      expect([r.concordant, r.discordant, r.tiedRisk, r.tiedTime, r.tiedBoth]).toEqual(count);
    }
  });
});

interface NetFx {
  n: number;
  p: number;
  X: number[][];
  time: number[];
  status: number[];
  lambdas: number[];
  lasso: number[][];
  enet: number[][];
  lasso_unstd: number[][];
  lambda_max: number[];
  foldid: number[];
  cvm: number[];
  cvsd: number[];
  lambda_min: number[];
  lambda_1se: number[];
}

describe('coxnet (glmnet family = "cox")', () => {
  const net = golden<NetFx>('survival', 'coxnet.json');
  const X = colMajor(net.X);
  const t = Float64Array.from(net.time);
  const e = Uint8Array.from(net.status);

  it.each([
    ['lasso', 1, true],
    ['enet', 0.5, true],
    ['lasso_unstd', 1, false],
  ] as const)('%s coefficients at fixed lambdas match glmnet', (key, l1Ratio, standardize) => {
    const path = coxnetPath(X, net.n, net.p, t, e, {
      l1Ratio,
      standardize,
      lambdas: net.lambdas,
      tol: 1e-12,
    });
    path.beta.forEach((b, l) => close(b, net[key][l]!, 1e-4));
    expect(path.converged.every(Boolean)).toBe(true);
  });

  it('lambda_max equals the first lambda of the default glmnet path', () => {
    const { xs } = standardizeRows(X, net.n, net.p, null, true);
    const path = lambdaPath(xs, net.n, net.p, t, e, 1, 100, null);
    expect(Math.abs(path[0]! - net.lambda_max[0]!)).toBeLessThan(1e-8 * net.lambda_max[0]!);
  });

  it('cross-validated deviance matches cv.glmnet with the same folds', async () => {
    const cv = await coxnetCv(
      X,
      net.n,
      net.p,
      t,
      e,
      {
        l1Ratio: 1,
        standardize: true,
        lambdas: net.lambdas,
        tol: 1e-12,
        nFolds: 5,
        foldid: Int32Array.from(net.foldid),
        threads: 1,
      },
      new Rng(1),
    );
    close(cv.cvm, net.cvm, 1e-4, true);
    close(cv.cvsd, net.cvsd, 1e-4, true);
    expect(cv.lambdaMin).toBe(net.lambda_min[0]);
    expect(cv.lambda1se).toBe(net.lambda_1se[0]);
  });
});
