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
import { type SquaresOut } from '../kernels/simd-gemm';
import { scaledColumnSums } from '../stats/simd_colsums';

/**
 * Column means by the column-sum kernel (stats/simd_colsums.ts: sum8 / n, columnMeanSd's bits),
 * or null where it is unavailable.
 */
function columnMeans(data: Float64Array, n: number, p: number): Float64Array | null {
  const mean = new Float64Array(p);
  return scaledColumnSums(data, n, 0, p, mean, n) >= 0 ? mean : null;
}

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
    // The means (the fit's centring, and the missing-value check) first; the sds (the model's
    // importances) from the same two passes as columnMeanSd. On the mixed path the second pass
    // rides on the screen's packing, which reads every centred value anyway (the statistics
    // kernel cost ~0.1 ms of a ~1.9 ms fit + predict at 200 × 2,000 on the CI VM, the column
    // sums alone ~35 µs); when the packing could not take it, the kernel runs afterwards.
    // (A copied matrix, from 2·10⁶ entries, keeps the statistics kernel on all threads: the
    // column sums stream it on one, ~2 ms slower at 500 × 20,000.)
    const mean = columns?.inPlace ? columnMeans(ds.data, n, p) : null;
    const stats = mean
      ? { mean, sd: null }
      : columns
        ? await columns.meanSd({ threads: ctx.threads, signal: ctx.signal })
        : columnMeanSd(ds.data, n, p);
    assertNoMissingByMeans(ds, stats.mean, code);
    const squares: SquaresOut = { values: new Float64Array(mean ? p : 0), filled: false };
    ctx.progress(0, 'fit');
    const r = await leastSquares(ds.data, n, p, ds.outcome.values, alpha, fitIntercept, {
      mean: stats.mean,
      squares: mean ? squares : undefined,
      gramOf: (x, n, p, center) =>
        gramRowsParallel(x, n, p, { threads: ctx.threads, signal: ctx.signal, center }),
      mixedFromWork: mixed ? 0 : Infinity,
      columns: columns ?? undefined,
      threads: ctx.threads,
      signal: ctx.signal,
    });
    ctx.progress(1, 'done');
    const sd =
      stats.sd ??
      (squares.filled
        ? squares.values.map(q => Math.sqrt(q / n))
        : (await columns!.meanSd({ threads: ctx.threads, signal: ctx.signal })).sd);
    return new LinearModel(code, ds.featureNames, params, {
      link: 'identity',
      coef: numberArray(r.coef),
      intercept: [r.intercept],
      classes: null,
      sd: numberArray(sd),
      info: { rank_deficient: r.rankDeficient },
    });
  } finally {
    columns?.release();
  }
}
