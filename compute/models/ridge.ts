/**
 * Ridge regression (scikit-learn Ridge): minimise ‖y − b0 − Xw‖² + alpha·‖w‖² on the SUMMED loss
 * with an unpenalised intercept, raw features (no standardisation), closed form (Cholesky; the
 * n × n dual system when p > n, solved above 10⁷ Gram multiply-adds by mixed-precision
 * preconditioned CG to the same float64 answer: compute/linear/ridge_dual.ts). Note the scale: scikit-learn Ridge alpha = n × glmnet lambda
 * (the `ridge` selector's alpha is glmnet's, on the mean loss and standardised features).
 */
import { type ArgSpecs } from '../core/args';
import { type ModelDef } from '../core/method';
import { loadLinear } from '../linear/model';
import { fitLeastSquaresModel } from './least_squares_fit';

export interface RidgeArgs {
  alpha: number;
  fit_intercept: boolean;
}

const args = {
  alpha: {
    type: 'number',
    default: 1,
    min: 0,
    doc: 'l2 penalty on the summed squared loss (scikit-learn Ridge alpha).',
  },
  fit_intercept: { type: 'boolean', default: true, doc: 'Fit an unpenalised intercept.' },
} satisfies ArgSpecs;

export const ridgeModel: ModelDef<RidgeArgs> = {
  kind: 'model',
  code: 'ridge',
  label: 'Ridge regression',
  description:
    'l2-penalised least squares with scikit-learn Ridge parameters (alpha on the summed loss), ' +
    'closed-form solve.',
  reference: 'Hoerl & Kennard (1970) Technometrics 12:55; scikit-learn Ridge',
  tasks: ['continuous'],
  device: 'cpu',
  args,
  async fit(ds, a, ctx) {
    return fitLeastSquaresModel('ridge', ds, a.alpha, a.fit_intercept, { ...a }, ctx);
  },
  load: state => loadLinear('ridge', state),
};
