/**
 * Linear SVM (scikit-learn LinearSVC defaults: penalty l2, squared hinge, C = 1, one-vs-rest):
 *
 *     ½‖w‖² + C·Σᵢ max(0, 1 − yᵢ(wᵀxᵢ + b))²
 *
 * on the raw features, the intercept being the weight of a constant feature `intercept_scaling`
 * (penalised, as liblinear). `dual` as scikit-learn ≥ 1.3's `dual='auto'`: n < p → the dual
 * coordinate descent with shrinking of liblinear / LinearSVC(dual=True) (./linear_svm_dual.ts;
 * `tol` is liblinear's projected-gradient spread, the sweep order a permutation from the run's
 * seed); otherwise the primal coordinate descent of compute/linear/svm.ts (`tol` relative to the
 * largest optimality violation at w = 0). The primal was very slow on raw p ≫ n data
 * (conformance finding F7: log-CPM 72 × 360 needed 8,600 sweeps at tol 1e-4 and was still 3e-3
 * off liblinear), the dual is slow for n ≫ p at large C (its Hessian is rank p + 1 < n).
 * Probabilities: σ(decision) for two classes, σ(decision_k) normalised for one-vs-rest — a
 * monotone squashing of the margin, not Platt scaling; use them for ranking (AUC), not as
 * calibrated risks.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type ModelDef } from '../core/method';
import { assertNoMissing, columnSd, LinearModel, loadLinear } from '../linear/model';
import { fitLinearSvc } from '../linear/svm';
import { fitDualSvc } from './linear_svm_dual';
import { numberArray } from '../core/scratch';

export interface LinearSvmArgs {
  C: number;
  fit_intercept: boolean;
  intercept_scaling: number;
  tol: number;
  max_iter: number;
  /** Optional in the type so older callers' literal args stay valid; parseArgs fills 'auto'. */
  dual?: 'auto' | 'true' | 'false';
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
    doc:
      'Stop when the spread of the dual projected gradient over a sweep is ≤ tol (liblinear / ' +
      'LinearSVC tol; the gradient starts at −1).',
  },
  max_iter: { type: 'integer', default: 1000, min: 1, doc: 'Maximum coordinate-descent sweeps.' },
  dual: {
    type: 'enum',
    values: ['auto', 'true', 'false'],
    default: 'auto',
    doc:
      'Solve the dual (liblinear dual coordinate descent) or the primal; auto: dual when ' +
      'samples < features (scikit-learn dual="auto").',
  },
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
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const dual = a.dual === 'true' || (a.dual !== 'false' && n < p);
    // The dual solver's row copy yields the column sds; a NaN (or ±∞) in a column makes its sd
    // NaN, and only then is the data scanned for the error message (±∞ passes, as before).
    const seen: { sd: Float64Array | null } = { sd: null };
    const onColumnSd = (sd: Float64Array) => {
      if (sd.some(v => Number.isNaN(v))) assertNoMissing(ds, 'linear_svm');
      seen.sd = sd;
    };
    if (!dual) assertNoMissing(ds, 'linear_svm');
    const { labels, classes } = classLabels(ds);
    ctx.progress(0, 'fit');
    const interceptScaling = a.fit_intercept ? a.intercept_scaling : 0;
    const r = dual
      ? fitDualSvc(ds.data, n, p, labels, classes.length, {
          C: a.C,
          interceptScaling,
          tol: a.tol,
          maxIter: a.max_iter,
          rng: ctx.rng.fork(0),
          signal: ctx.signal,
          onColumnSd,
        })
      : fitLinearSvc(ds.data, n, p, labels, classes.length, {
          C: a.C,
          penalty: 'l2',
          interceptScaling,
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
        coef: numberArray(r.coef),
        intercept: numberArray(r.intercept),
        classes,
        sd: seen.sd ? numberArray(seen.sd) : columnSd(ds.data, n, p),
        info: {
          iterations: r.iterations,
          converged: r.converged,
          solver: dual ? 'dual' : 'primal',
        },
      },
    );
  },
  load: state => loadLinear('linear_svm', state),
};
