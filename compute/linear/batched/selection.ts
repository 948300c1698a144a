/**
 * Stability selection's batched path for the glmnet selectors: every subsample's lasso /
 * elastic-net selection from ONE batched tensor solve (batchedElasticNet) instead of one CD fit
 * per subsample. Matches compute/stability's `BatchedSelection` signature structurally:
 *
 *   (ds, subsamples, baseArgs, baseK, ctx) → Promise<{ sets, backend } | null>
 *
 * Returns null (→ the caller runs the float64 selector per subsample) when the batched form does
 * not apply: alpha chosen by CV (alpha = null), or a multiclass / survival outcome.
 * A subsample's set: its non-zero coefficients ordered by |standardised coefficient| (baseK > 0:
 * the top baseK by that score), as the float64 selectors' own rule / top-k.
 * Register with: registerBatchedSelection('lasso', lassoBatched) and ('elastic_net', elasticNetBatched).
 */
import { type Dataset } from '../../core/dataset';
import { type RunContext } from '../../core/method';
import { batchedElasticNet } from './elastic_net';

type Sets = { sets: Int32Array[]; backend: string } | null;

async function batchedSets(
  ds: Dataset,
  subsamples: Int32Array[],
  baseArgs: Record<string, unknown>,
  baseK: number,
  ctx: RunContext,
  l1Ratio: number,
): Promise<Sets> {
  const alpha = baseArgs.alpha;
  if (typeof alpha !== 'number') return null;
  if (ds.outcome.kind !== 'continuous' && ds.outcome.kind !== 'binary') return null;
  const standardize = baseArgs.standardize !== false;
  ctx.progress(0, 'batched fit');
  const r = await batchedElasticNet({
    ds,
    subsamples,
    alpha,
    l1_ratio: l1Ratio,
    standardize,
    signal: ctx.signal,
  });
  const p = ds.nFeatures;
  const sd = standardize ? null : columnSd(ds);
  const sets = subsamples.map((_, b) => {
    const score = (j: number): number =>
      sd ? Math.abs(r.coefOriginal[b * p + j]!) * sd[j]! : Math.abs(r.coef[b * p + j]!);
    const all = Array.from({ length: p }, (_, j) => j);
    const ranked = all.sort((u, v) => score(v) - score(u) || u - v);
    return Int32Array.from(
      baseK > 0 ? ranked.slice(0, baseK) : ranked.filter(j => r.coef[b * p + j] !== 0),
    );
  });
  ctx.progress(1, 'batched fit');
  return { sets, backend: r.backend };
}

function columnSd(ds: Dataset): Float64Array {
  const n = ds.nSamples;
  const out = new Float64Array(ds.nFeatures);
  for (let j = 0; j < ds.nFeatures; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += ds.data[j * n + i]!;
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (ds.data[j * n + i]! - m) ** 2;
    out[j] = Math.sqrt(s / n);
  }
  return out;
}

export const lassoBatched = (
  ds: Dataset,
  subsamples: Int32Array[],
  baseArgs: Record<string, unknown>,
  baseK: number,
  ctx: RunContext,
): Promise<Sets> => batchedSets(ds, subsamples, baseArgs, baseK, ctx, 1);

export const elasticNetBatched = (
  ds: Dataset,
  subsamples: Int32Array[],
  baseArgs: Record<string, unknown>,
  baseK: number,
  ctx: RunContext,
): Promise<Sets> =>
  batchedSets(
    ds,
    subsamples,
    baseArgs,
    baseK,
    ctx,
    typeof baseArgs.l1_ratio === 'number' ? baseArgs.l1_ratio : 0.5,
  );
