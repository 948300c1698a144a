/**
 * Ordinary least squares (scikit-learn LinearRegression): minimise ‖y − b0 − Xw‖². With p > n or
 * collinear features the solution is not unique and the minimum-norm one is returned (as
 * scikit-learn's lstsq); `rank_deficient` in the saved state says when that happened.
 */
import { type ArgSpecs } from '../core/args';
import { type ModelDef } from '../core/method';
import { leastSquares } from '../linear/least_squares';
import { assertNoMissing, columnSd, LinearModel, loadLinear } from '../linear/model';

export interface LinearRegressionArgs {
  fit_intercept: boolean;
}

const args = {
  fit_intercept: { type: 'boolean', default: true, doc: 'Fit an intercept (centre X and y).' },
} satisfies ArgSpecs;

export const linearRegression: ModelDef<LinearRegressionArgs> = {
  kind: 'model',
  code: 'linear_regression',
  label: 'Linear regression (OLS)',
  description:
    'Ordinary least squares with an intercept; p > n or collinear features give the ' +
    'minimum-norm solution (as scikit-learn / LAPACK lstsq).',
  reference: 'scikit-learn LinearRegression',
  tasks: ['continuous'],
  device: 'cpu',
  args,
  async fit(ds, a, ctx) {
    assertNoMissing(ds, 'linear_regression');
    if (ds.outcome.kind !== 'continuous') {
      throw new Error(`linear_regression needs a continuous outcome, got ${ds.outcome.kind}`);
    }
    ctx.progress(0, 'fit');
    const r = leastSquares(
      ds.data,
      ds.nSamples,
      ds.nFeatures,
      ds.outcome.values,
      0,
      a.fit_intercept,
    );
    ctx.progress(1, 'done');
    return new LinearModel(
      'linear_regression',
      ds.featureNames,
      { ...a },
      {
        link: 'identity',
        coef: Array.from(r.coef),
        intercept: [r.intercept],
        classes: null,
        sd: columnSd(ds.data, ds.nSamples, ds.nFeatures),
        info: { rank_deficient: r.rankDeficient },
      },
    );
  },
  load: state => loadLinear('linear_regression', state),
};
