/**
 * The fit shared by `linear_regression` (alpha = 0) and `ridge` (alpha > 0): both minimise
 * ‖y − b0 − Xw‖² + alpha‖w‖² with the same solver and save the same identity-link state.
 */
import { type Dataset } from '../core/dataset';
import { type RunContext } from '../core/method';
import { gramRowsParallel } from '../linear/dense';
import { leastSquares } from '../linear/least_squares';
import { assertNoMissingByMeans, columnMeanSd, LinearModel } from '../linear/model';

export async function fitLeastSquaresModel(
  code: string,
  ds: Dataset,
  alpha: number,
  fitIntercept: boolean,
  params: Record<string, unknown>,
  ctx: RunContext,
): Promise<LinearModel> {
  if (ds.outcome.kind !== 'continuous') {
    throw new Error(`${code} needs a continuous outcome, got ${ds.outcome.kind}`);
  }
  // One pass for the means (the fit's centring), the sds (the model's importances) and the
  // missing-value check.
  const stats = columnMeanSd(ds.data, ds.nSamples, ds.nFeatures);
  assertNoMissingByMeans(ds, stats.mean, code);
  ctx.progress(0, 'fit');
  const r = await leastSquares(
    ds.data,
    ds.nSamples,
    ds.nFeatures,
    ds.outcome.values,
    alpha,
    fitIntercept,
    {
      mean: stats.mean,
      gramOf: (x, n, p, center) =>
        gramRowsParallel(x, n, p, { threads: ctx.threads, signal: ctx.signal, center }),
    },
  );
  ctx.progress(1, 'done');
  return new LinearModel(code, ds.featureNames, params, {
    link: 'identity',
    coef: Array.from(r.coef),
    intercept: [r.intercept],
    classes: null,
    sd: Array.from(stats.sd),
    info: { rank_deficient: r.rankDeficient },
  });
}
