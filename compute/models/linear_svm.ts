/**
 * Linear SVM (scikit-learn LinearSVC defaults: penalty l2, squared hinge, C = 1, one-vs-rest):
 *
 *     ½‖w‖² + C·Σᵢ max(0, 1 − yᵢ(wᵀxᵢ + b))²
 *
 * on the raw features, the intercept being the weight of a constant feature `intercept_scaling`
 * (penalised, as liblinear). Solved in the primal by coordinate descent (compute/linear/svm.ts);
 * the l2 problem is strictly convex so the solution equals liblinear's dual one.
 * Probabilities: σ(decision) for two classes, σ(decision_k) normalised for one-vs-rest — a
 * monotone squashing of the margin, not Platt scaling; use them for ranking (AUC), not as
 * calibrated risks.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type ModelDef } from '../core/method';
import { assertNoMissing, LinearModel, loadLinear } from '../linear/model';
import { fitLinearSvc } from '../linear/svm';

export interface LinearSvmArgs {
  C: number;
  fit_intercept: boolean;
  intercept_scaling: number;
  tol: number;
  max_iter: number;
}

const args = {
  C: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: 'Weight of the summed squared hinge loss (LinearSVC C).',
  },
  fit_intercept: {
    type: 'boolean',
    default: true,
    doc: 'Fit an intercept (penalised, as liblinear).',
  },
  intercept_scaling: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: 'Value of the synthetic constant feature whose weight is the intercept (LinearSVC).',
  },
  tol: {
    type: 'number',
    default: 1e-4,
    min: 0,
    exclusiveMin: true,
    doc: 'Stop when the largest optimality violation falls below tol × its initial value.',
  },
  max_iter: { type: 'integer', default: 1000, min: 1, doc: 'Maximum coordinate-descent sweeps.' },
} satisfies ArgSpecs;

export const linearSvm: ModelDef<LinearSvmArgs> = {
  kind: 'model',
  code: 'linear_svm',
  label: 'Linear SVM',
  description:
    'l2-penalised squared-hinge linear SVM with LinearSVC parameters (C, one-vs-rest for ' +
    'multiclass); probabilities are a logistic squashing of the decision value (not calibrated).',
  reference: 'Fan et al. (2008) JMLR 9:1871 (LIBLINEAR); scikit-learn LinearSVC',
  tasks: ['binary', 'multiclass'],
  device: 'cpu',
  args,
  async fit(ds, a, ctx) {
    assertNoMissing(ds, 'linear_svm');
    const { labels, classes } = classLabels(ds);
    ctx.progress(0, 'fit');
    const r = fitLinearSvc(ds.data, ds.nSamples, ds.nFeatures, labels, classes.length, {
      C: a.C,
      penalty: 'l2',
      interceptScaling: a.fit_intercept ? a.intercept_scaling : 0,
      tol: a.tol,
      maxIter: a.max_iter,
      standardize: false,
      signal: ctx.signal,
    });
    ctx.progress(1, 'done');
    return new LinearModel(
      'linear_svm',
      ds.featureNames,
      { ...a },
      {
        link: 'svm',
        coef: Array.from(r.coef),
        intercept: Array.from(r.intercept),
        classes,
        sd: Array.from(r.sd),
        info: { iterations: r.iterations, converged: r.converged },
      },
    );
  },
  load: state => loadLinear('linear_svm', state),
};
