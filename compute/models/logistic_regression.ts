/**
 * Logistic regression with scikit-learn's parameters and objective:
 *
 *     C·Σᵢ loss_i + pen(w),   pen = ½‖w‖² (l2) | ‖w‖₁ (l1) | l1_ratio·‖w‖₁ + (1 − l1_ratio)/2·‖w‖²
 *
 * on the raw (unstandardised) features with an unpenalised intercept; binary = logistic loss,
 * multiclass = multinomial (softmax) loss with one coefficient vector per class. Dividing by C·n
 * gives the glmnet form (mean loss + λ·pen) with λ = 1/(C·n), which our coordinate-descent
 * solver (compute/linear/binomial.ts, multinomial.ts) minimises; `penalty = 'none'` is λ = 0.
 * `tol` is the CD threshold relative to the null deviance, `max_iter` the total CD passes.
 * Pure l2 (`penalty = 'l2'`) with more than twice as many features as samples is solved by L-BFGS
 * in the row space of X instead (compute/linear/logistic_lbfgs.ts; scikit-learn's default solver
 * is L-BFGS): there `tol` bounds the gradient norm relative to its value at 0 and `max_iter` the
 * L-BFGS iterations.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type ModelDef } from '../core/method';
import { fitElnet } from '../linear/elnet';
import { gramRowsParallel } from '../linear/dense';
import { logisticLbfgs } from '../linear/logistic_lbfgs';
import { assertNoMissingByMeans, columnMeanSd, LinearModel, loadLinear } from '../linear/model';
import { DEFAULT_CONTROL, originalScale } from '../linear/path';

export interface LogisticArgs {
  penalty: 'l2' | 'l1' | 'elasticnet' | 'none';
  C: number;
  l1_ratio: number;
  fit_intercept: boolean;
  max_iter: number;
  tol: number;
}

const logisticArgs = {
  penalty: {
    type: 'enum',
    values: ['l2', 'l1', 'elasticnet', 'none'],
    default: 'l2',
    doc: 'Penalty as scikit-learn LogisticRegression.',
  },
  C: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: 'Inverse regularisation strength on the summed loss (scikit-learn C = 1/(n·alpha)).',
  },
  l1_ratio: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'l1 share of the elasticnet penalty (used only with penalty = elasticnet).',
  },
  fit_intercept: { type: 'boolean', default: true, doc: 'Fit an unpenalised intercept.' },
  max_iter: {
    type: 'integer',
    default: 100000,
    min: 1,
    doc: 'Maximum total coordinate-descent passes.',
  },
  tol: {
    type: 'number',
    default: 1e-9,
    min: 0,
    exclusiveMin: true,
    doc: 'Coordinate-descent convergence threshold relative to the null deviance.',
  },
} satisfies ArgSpecs;

export const logisticRegression: ModelDef<LogisticArgs> = {
  kind: 'model',
  code: 'logistic_regression',
  label: 'Logistic regression',
  description:
    'Penalised logistic (binary) or multinomial (multiclass) regression with scikit-learn ' +
    'LogisticRegression parameters (penalty, C, l1_ratio), solved by glmnet-style coordinate ' +
    'descent; predict_proba from the logistic / softmax link.',
  reference:
    'scikit-learn LogisticRegression (objective and parameters); Friedman, Hastie & Tibshirani ' +
    '(2010) J Stat Softw 33(1) (solver)',
  tasks: ['binary', 'multiclass'],
  device: 'cpu',
  args: logisticArgs,
  async fit(ds, args, ctx) {
    const { labels, classes } = classLabels(ds);
    const n = ds.nSamples;
    const p = ds.nFeatures;
    // One pass for the missing-value check and the sds the model keeps for its importances.
    const stats = columnMeanSd(ds.data, n, p);
    assertNoMissingByMeans(ds, stats.mean, 'logistic_regression');
    const lambda = args.penalty === 'none' ? 0 : 1 / (args.C * n);
    const l1Ratio = args.penalty === 'l1' ? 1 : args.penalty === 'elasticnet' ? args.l1_ratio : 0;
    const multi = classes.length > 2;
    ctx.progress(0, 'fit');
    if (l1Ratio === 0 && lambda > 0 && p > 2 * n) {
      // Pure l2 with p > 2n: L-BFGS in X's row space (scikit-learn's default solver); CD crawls on
      // p ≫ n ridge-logistic fits. With n ≥ p/2 CD stays: on unscaled, badly conditioned columns
      // (raw breast cancer, κ ≈ 2e9) it reached tol 1e-12 in ~2 s where L-BFGS took 9–33 s.
      // XXᵀ for the row-space iteration, split over worker threads when it is large.
      const gram = await gramRowsParallel(ds.data, n, p, {
        threads: ctx.threads,
        signal: ctx.signal,
      });
      const r = logisticLbfgs({
        gram,
        x: ds.data,
        n,
        p,
        y: labels,
        nClasses: classes.length,
        lambda,
        intercept: args.fit_intercept,
        gtol: args.tol,
        maxIter: args.max_iter,
        signal: ctx.signal,
      });
      ctx.progress(1, 'done');
      return new LinearModel(
        'logistic_regression',
        ds.featureNames,
        { ...args },
        {
          link: multi ? 'softmax' : 'logistic',
          coef: Array.from(r.coef),
          intercept: Array.from(r.intercept),
          classes,
          sd: Array.from(stats.sd),
          info: {
            iterations: r.iterations,
            converged: r.converged,
            alpha: lambda,
            solver: 'lbfgs',
          },
        },
      );
    }
    const f = fitElnet(
      ds.data,
      n,
      p,
      null,
      multi
        ? { family: 'multinomial', y: labels, nClasses: classes.length }
        : { family: 'binomial', y: labels },
      {
        l1Ratio,
        lambdas: [lambda],
        nLambda: 1,
        eps: 1,
        standardize: false,
        intercept: args.fit_intercept,
        control: { ...DEFAULT_CONTROL, tol: args.tol, maxIter: args.max_iter, signal: ctx.signal },
      },
    );
    if (f.fit.lambdas.length === 0) {
      throw new Error(`logistic_regression did not converge within max_iter = ${args.max_iter}`);
    }
    const { beta, intercept } = originalScale(f.fit, f.scale, 0);
    ctx.progress(1, 'done');
    return new LinearModel(
      'logistic_regression',
      ds.featureNames,
      { ...args },
      {
        link: multi ? 'softmax' : 'logistic',
        coef: Array.from(beta),
        intercept: Array.from(intercept),
        classes,
        sd: Array.from(stats.sd),
        info: { iterations: f.fit.passes, converged: f.fit.converged, alpha: lambda },
      },
    );
  },
  load: state => loadLinear('logistic_regression', state),
};
