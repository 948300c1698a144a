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
 * L-BFGS iterations. Large row-space fits iterate on a float32-screened Gram and are corrected to
 * the float64 optimum by passes over the data (compute/linear/logistic_mixed.ts).
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type ModelDef, type RunContext } from '../core/method';
import { CentredColumns } from '../kernels/centred-ops';
import { fitElnet } from '../linear/elnet';
import { gramRowsParallel } from '../linear/dense';
import { type LogisticLbfgsInput, logisticLbfgs } from '../linear/logistic_lbfgs';
import { logisticRowsMixed } from '../linear/logistic_mixed';
import { assertNoMissingByMeans, columnMeanSd, LinearModel, loadLinear } from '../linear/model';
import { DEFAULT_CONTROL, originalScale } from '../linear/path';
import { numberArray } from '../core/scratch';

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
    const lambda = args.penalty === 'none' ? 0 : 1 / (args.C * n);
    const l1Ratio = args.penalty === 'l1' ? 1 : args.penalty === 'elasticnet' ? args.l1_ratio : 0;
    // Pure l2 with p > 2n: L-BFGS in X's row space (scikit-learn's default solver); CD crawls on
    // p ≫ n ridge-logistic fits. With n ≥ p/2 CD stays: on unscaled, badly conditioned columns
    // (raw breast cancer, κ ≈ 2e9) it reached tol 1e-12 in ~2 s where L-BFGS took 9–33 s.
    const rowSpace = l1Ratio === 0 && lambda > 0 && p > 2 * n;
    // Large row-space fits iterate on the float32-screened Gram, corrected to the float64 optimum
    // by passes over the data in WebAssembly memory (logistic_mixed.ts); copied once, the column
    // statistics are taken there (columnMeanSd's bits).
    const columns =
      rowSpace && (n * n * p) / 2 >= MIXED_ROWS_WORK ? CentredColumns.create(ds.data, n, p) : null;
    try {
      // One pass for the missing-value check and the sds the model keeps for its importances.
      const stats = columns
        ? await columns.meanSd({ threads: ctx.threads, signal: ctx.signal })
        : columnMeanSd(ds.data, n, p);
      assertNoMissingByMeans(ds, stats.mean, 'logistic_regression');
      ctx.progress(0, 'fit');
      const input: LogisticLbfgsInput = {
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
      };
      const fit = rowSpace
        ? await rowSpaceFit(input, ctx, stats.mean, columns)
        : coordinateDescentFit(input, l1Ratio);
      ctx.progress(1, 'done');
      return new LinearModel(
        'logistic_regression',
        ds.featureNames,
        { ...args },
        {
          link: classes.length > 2 ? 'softmax' : 'logistic',
          coef: numberArray(fit.coef),
          intercept: numberArray(fit.intercept),
          classes,
          sd: numberArray(stats.sd),
          info: { ...fit.info, alpha: lambda },
        },
      );
    } finally {
      columns?.release();
    }
  },
  load: state => loadLinear('logistic_regression', state),
};

interface Fit {
  coef: ArrayLike<number>;
  intercept: ArrayLike<number>;
  info: Record<string, unknown>;
}

/** Gram multiply-adds (n²p/2) from which the row-space fit iterates on the float32 screen. */
const MIXED_ROWS_WORK = 1e7;

async function rowSpaceFit(
  input: LogisticLbfgsInput,
  ctx: RunContext,
  mean: Float64Array,
  columns: CentredColumns | null,
): Promise<Fit> {
  let r = columns ? await logisticRowsMixed(input, columns, mean, { threads: ctx.threads }) : null;
  if (!r) {
    // The centred Gram in float64 for the row-space iteration (logistic_lbfgs.ts `center`), split
    // over worker threads when it is large.
    const center = input.intercept ? mean : undefined;
    const gram = await gramRowsParallel(input.x, input.n, input.p, {
      threads: ctx.threads,
      signal: ctx.signal,
      center,
    });
    r = logisticLbfgs({ ...input, gram, center });
  }
  return {
    coef: r.coef,
    intercept: r.intercept,
    info: { iterations: r.iterations, converged: r.converged, solver: 'lbfgs' },
  };
}

function coordinateDescentFit(input: LogisticLbfgsInput, l1Ratio: number): Fit {
  const { x, n, p, y, nClasses, lambda } = input;
  const f = fitElnet(
    x,
    n,
    p,
    null,
    nClasses > 2 ? { family: 'multinomial', y, nClasses } : { family: 'binomial', y },
    {
      l1Ratio,
      lambdas: [lambda],
      nLambda: 1,
      eps: 1,
      standardize: false,
      intercept: input.intercept,
      control: {
        ...DEFAULT_CONTROL,
        tol: input.gtol,
        maxIter: input.maxIter,
        signal: input.signal,
      },
    },
  );
  if (f.fit.lambdas.length === 0) {
    throw new Error(`logistic_regression did not converge within max_iter = ${input.maxIter}`);
  }
  const { beta, intercept } = originalScale(f.fit, f.scale, 0);
  return {
    coef: beta,
    intercept,
    info: { iterations: f.fit.passes, converged: f.fit.converged },
  };
}
