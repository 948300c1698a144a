/**
 * The fit shared by `linear_regression` (alpha = 0) and `ridge` (alpha > 0): both minimise
 * ‖y − b0 − Xw‖² + alpha‖w‖² with the same solver and save the same identity-link state.
 */
import { type Dataset } from '../core/dataset';
import { type RunContext } from '../core/method';
import { leastSquares } from '../linear/least_squares';
import { assertNoMissing, columnSd, LinearModel } from '../linear/model';

export function fitLeastSquaresModel(
  code: string,
  ds: Dataset,
  alpha: number,
  fitIntercept: boolean,
  params: Record<string, unknown>,
  ctx: RunContext,
): LinearModel {
  assertNoMissing(ds, code);
  if (ds.outcome.kind !== 'continuous') {
    throw new Error(`${code} needs a continuous outcome, got ${ds.outcome.kind}`);
  }
  ctx.progress(0, 'fit');
  const r = leastSquares(
    ds.data,
    ds.nSamples,
    ds.nFeatures,
    ds.outcome.values,
    alpha,
    fitIntercept,
  );
  ctx.progress(1, 'done');
  return new LinearModel(code, ds.featureNames, params, {
    link: 'identity',
    coef: Array.from(r.coef),
    intercept: [r.intercept],
    classes: null,
    sd: columnSd(ds.data, ds.nSamples, ds.nFeatures),
    info: { rank_deficient: r.rankDeficient },
  });
}
