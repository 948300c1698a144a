/**
 * Ordinary least squares (scikit-learn LinearRegression): minimise ‖y − b0 − Xw‖². With p > n or
 * collinear features the solution is not unique and the minimum-norm one is returned (as
 * scikit-learn's lstsq); `rank_deficient` in the saved state says when that happened.
 */
import { type ArgSpecs } from '../core/args';
import { type ModelDef } from '../core/method';
import { loadLinear } from '../linear/model';
import { fitLeastSquaresModel } from './least_squares_fit';

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
    return fitLeastSquaresModel('linear_regression', ds, 0, a.fit_intercept, { ...a }, ctx);
  },
  load: state => loadLinear('linear_regression', state),
};
