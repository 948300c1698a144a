/**
 * Batched kernels for stability selection: base selectors whose subsample fits can run as ONE
 * batched solve. lasso / elastic_net at a fixed penalty map onto the batched elastic net
 * (compute/linear/batched), which solves all subsamples together in float32: FISTA on each
 * subsample's working set, as batched tensor ops on native TensorFlow or on the host's SIMD row
 * kernels elsewhere (its `fista` engines). Anything the kernel cannot do — a penalty chosen by CV
 * inside each subsample, multiclass or survival outcomes, missing values — returns null and
 * stability selection falls back to fitting the subsamples one by one on worker threads.
 */
import { type Dataset } from '../core/dataset';
import { type RunContext } from '../core/method';
import { batchedElasticNet } from '../linear/batched/elastic_net';
import { type BatchedSelection } from './stability';

function hasMissing(ds: Dataset): boolean {
  for (let i = 0; i < ds.data.length; i++) if (Number.isNaN(ds.data[i]!)) return true;
  return false;
}

function elasticNetKernel(defaultL1: number): BatchedSelection {
  return async (
    ds: Dataset,
    subsamples: Int32Array[],
    args: Record<string, unknown>,
    baseK: number,
    ctx: RunContext,
  ) => {
    const alpha = args.alpha;
    const kind = ds.outcome.kind;
    if (typeof alpha !== 'number' || (kind !== 'continuous' && kind !== 'binary')) return null;
    if (hasMissing(ds)) return null;
    const l1 = typeof args.l1_ratio === 'number' ? args.l1_ratio : defaultL1;
    ctx.progress(0, `batched elastic net over ${subsamples.length} subsamples`);
    const r = await batchedElasticNet({
      ds,
      subsamples,
      alpha,
      l1_ratio: l1,
      standardize: args.standardize !== false,
      signal: ctx.signal,
    });
    const p = r.nFeatures;
    const sets = subsamples.map((_, b) => {
      const row = r.coef.subarray(b * p, (b + 1) * p);
      const nonzero: number[] = [];
      for (let j = 0; j < p; j++) if (row[j] !== 0) nonzero.push(j);
      if (baseK > 0 && nonzero.length > baseK) {
        // top k by |standardised coefficient| (ties by column order), as the selector's k does
        nonzero.sort((a, c) => Math.abs(row[c]!) - Math.abs(row[a]!) || a - c);
        nonzero.length = baseK;
      }
      return Int32Array.from(nonzero.sort((a, c) => a - c));
    });
    ctx.progress(1, 'batched elastic net done');
    return { sets, backend: r.backend };
  };
}

/** Base selector code → batched kernel. */
export const BUILTIN_BATCHED: Record<string, BatchedSelection> = {
  lasso: elasticNetKernel(1),
  elastic_net: elasticNetKernel(0.5),
};
