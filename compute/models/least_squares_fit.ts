/**
 * The fit shared by `linear_regression` (alpha = 0) and `ridge` (alpha > 0): both minimise
 * ‖y − b0 − Xw‖² + alpha‖w‖² with the same solver and save the same identity-link state.
 */
import { type Dataset } from '../core/dataset';
import { type RunContext } from '../core/method';
import { gramRowsParallel } from '../linear/dense';
import { CentredColumns } from '../kernels/centred-ops';
import { leastSquares } from '../linear/least_squares';
import { assertNoMissingByMeans, columnMeanSd, LinearModel } from '../linear/model';
import { numberArray } from '../core/scratch';

/** Gram multiply-adds (n²p/2) from which ridge tries the mixed-precision dual solve. */
const MIXED_DUAL_WORK = 1e7;

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
  const n = ds.nSamples;
  const p = ds.nFeatures;
  // The mixed-precision ridge solve reads the data from WebAssembly memory: copied once, the
  // column statistics are then taken there (bit for bit columnMeanSd's, on all cores).
  const mixed = alpha > 0 && p > n && (n * n * p) / 2 >= MIXED_DUAL_WORK;
  const columns = mixed ? CentredColumns.create(ds.data, n, p) : null;
  try {
    // One pass for the means (the fit's centring), the sds (the model's importances) and the
    // missing-value check.
    const stats = columns
      ? await columns.meanSd({ threads: ctx.threads, signal: ctx.signal })
      : columnMeanSd(ds.data, n, p);
    assertNoMissingByMeans(ds, stats.mean, code);
    ctx.progress(0, 'fit');
    const r = await leastSquares(ds.data, n, p, ds.outcome.values, alpha, fitIntercept, {
      mean: stats.mean,
      gramOf: (x, n, p, center) =>
        gramRowsParallel(x, n, p, { threads: ctx.threads, signal: ctx.signal, center }),
      mixedFromWork: mixed ? 0 : Infinity,
      columns: columns ?? undefined,
      threads: ctx.threads,
      signal: ctx.signal,
    });
    ctx.progress(1, 'done');
    return new LinearModel(code, ds.featureNames, params, {
      link: 'identity',
      coef: numberArray(r.coef),
      intercept: [r.intercept],
      classes: null,
      sd: numberArray(stats.sd),
      info: { rank_deficient: r.rankDeficient },
    });
  } finally {
    columns?.release();
  }
}
