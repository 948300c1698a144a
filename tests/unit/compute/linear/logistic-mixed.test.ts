/**
 * logistic_regression's large row-space fits (compute/linear/logistic_mixed.ts: L-BFGS on the
 * float32-screened Gram, corrected by float64 passes over the data) reach the optimum of the
 * float64 row-space solver, for two and three classes, and are deterministic. The data are raw
 * columns with offsets (so the centring and the raw-scale intercept are exercised); the float64
 * reference runs on the centred columns, where it converges (on the raw ones its Gram is
 * dominated by the offsets and it stops at 1e-6 of the optimum), and its intercept is moved to
 * the raw scale.
 */
import { parseArgs } from '../../../../compute/core/args';
import { type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { CentredColumns } from '../../../../compute/kernels/centred-ops';
import { simdGemmAvailable } from '../../../../compute/kernels/simd-gemm';
import { gramRows } from '../../../../compute/linear/dense';
import { type LogisticLbfgsInput, logisticLbfgs } from '../../../../compute/linear/logistic_lbfgs';
import { logisticRowsMixed } from '../../../../compute/linear/logistic_mixed';
import { columnMeanSd, type LinearModel } from '../../../../compute/linear/model';
import {
  type LogisticArgs,
  logisticRegression,
} from '../../../../compute/models/logistic_regression';
import { maxRel } from '../../../helpers/numeric';

const maybe = simdGemmAvailable() ? it : it.skip;

function data(n: number, p: number, K: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % K;
  for (let j = 0; j < p; j++) {
    const offset = 5 + 20 * rng.random();
    for (let i = 0; i < n; i++) {
      x[j * n + i] = offset + rng.normal() * (1 + j / p) + (j < 6 ? 0.8 * y[i]! : 0);
    }
  }
  return { x, y };
}

/** The float64 row-space solver on the centred columns, intercept moved to the raw scale. */
function centredReference(input: LogisticLbfgsInput) {
  const { x, n, p } = input;
  const { mean } = columnMeanSd(x, n, p);
  const xc = Float64Array.from(x, (v, at) => v - mean[Math.floor(at / n)]!);
  const fit = logisticLbfgs({ ...input, x: xc, gram: gramRows(xc, n, p) });
  expect(fit.converged).toBe(true);
  const K = fit.intercept.length;
  for (let k = 0; k < K; k++) {
    let shift = 0;
    for (let j = 0; j < p; j++) shift += mean[j]! * fit.coef[k * p + j]!;
    fit.intercept[k] = fit.intercept[k]! - shift;
  }
  if (K > 1) {
    const m = fit.intercept.reduce((a, b) => a + b, 0) / K;
    for (let k = 0; k < K; k++) fit.intercept[k] = fit.intercept[k]! - m;
  }
  return fit;
}

describe.each([2, 3])('%i classes', K => {
  const [n, p] = [90, 1500];
  const { x, y } = data(n, p, K, 40 + K);
  const input = {
    x,
    n,
    p,
    y,
    nClasses: K,
    lambda: 1 / n,
    intercept: true,
    gtol: 1e-12,
    maxIter: 1000,
  };

  maybe(
    'the screened iteration corrected by float64 passes reaches the float64 optimum',
    async () => {
      const exact = centredReference(input);
      const cols = CentredColumns.create(x, n, p)!;
      const { mean } = columnMeanSd(x, n, p);
      const mixed = await logisticRowsMixed(input, cols, mean);
      const again = await logisticRowsMixed(input, cols, mean);
      cols.release();
      expect(mixed).not.toBeNull();
      expect(mixed!.converged).toBe(true);
      expect(maxRel(mixed!.coef, exact.coef)).toBeLessThan(1e-7);
      for (let k = 0; k < exact.intercept.length; k++) {
        expect(Math.abs(mixed!.intercept[k]! - exact.intercept[k]!)).toBeLessThan(1e-6);
      }
      expect(Array.from(again!.coef)).toEqual(Array.from(mixed!.coef));
    },
  );
});

maybe(
  'the model takes the mixed path above the switch-over size and predicts as the f64 fit',
  async () => {
    const [n, p] = [100, 2500]; // n²p/2 = 1.25e7
    const { x, y } = data(n, p, 2, 7);
    const ds: Dataset = {
      data: x,
      nSamples: n,
      nFeatures: p,
      featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
      sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
      outcome: { kind: 'binary', labels: y, classes: ['a', 'b'] },
    };
    const args = parseArgs(logisticRegression.args, { tol: 1e-12 }) as unknown as LogisticArgs;
    const model = (await logisticRegression.fit(ds, args, quietContext(1))) as LinearModel;
    const exact = centredReference({
      x,
      n,
      p,
      y,
      nClasses: 2,
      lambda: 1 / n,
      intercept: true,
      gtol: 1e-12,
      maxIter: 1000,
    });
    expect(model.state.info).toMatchObject({ solver: 'lbfgs', converged: true });
    expect(maxRel(model.state.coef, exact.coef)).toBeLessThan(1e-7);
    const pred = model.predict(ds);
    if (pred.kind !== 'class') throw new Error('class prediction expected');
    const prob = pred.proba;
    let maxDiff = 0;
    for (let i = 0; i < n; i++) {
      let eta = exact.intercept[0]!;
      for (let j = 0; j < p; j++) eta += exact.coef[j]! * x[j * n + i]!;
      maxDiff = Math.max(maxDiff, Math.abs(prob[i * 2 + 1]! - 1 / (1 + Math.exp(-eta))));
    }
    expect(maxDiff).toBeLessThan(1e-8);
  },
);
