/**
 * Stability selection of the glmnet-style selectors (`lasso`, `elastic_net`, `ridge`) at a fixed
 * alpha without the per-subsample selector machinery: worker threads fit chunks of subsamples
 * straight from the shared matrix with the float64 coordinate descent.
 *
 * Why: running the registered selector per subsample copies the subsample into a new dataset,
 * builds a fresh n·p design, uploads it to the tensor backend for the KKT products, ranks all p
 * features by name and builds per-feature diagnostics — together more than the fit itself on
 * 250 × 20,000. Here one design buffer per chunk is reused, the KKT products stay in float64
 * (a single-penalty route has few of them) and only the non-zero coefficients are ranked.
 *
 * The selected sets are identical to the selector's (same fit, `fitElnet` with `warmTo`, same
 * scores from `penalisedScores`, same ranking rule as `rankAndSelect`: score descending, ties by
 * column order), which tests/unit/compute/stability checks.
 */
import { type Dataset } from '../core/dataset';
import { fitElnet, type ElnetOptions, type Target } from '../linear/elnet';
import { DEFAULT_CONTROL, originalScale } from '../linear/path';
import { wasmDesignBuffer } from '../linear/simd';
import { fixedAlphaIndex, type PenalisedArgs, penalisedScores, targetOf } from '../linear/selector';

/** This module, for parallelMap (worker threads load its compiled twin). */
export const CD_CHUNK_MODULE = __filename;

/** Base selector code → (l1_ratio from its arguments, own rule keeps every usable feature). */
const PENALISED: Record<
  string,
  { l1Ratio: (args: Record<string, unknown>) => number; keepsAll: boolean }
> = {
  lasso: { l1Ratio: () => 1, keepsAll: false },
  elastic_net: {
    l1Ratio: a => (typeof a.l1_ratio === 'number' ? a.l1_ratio : 0.5),
    keepsAll: false,
  },
  ridge: { l1Ratio: () => 0, keepsAll: true },
};

export interface CdChunkTask {
  data: Float64Array;
  nAll: number;
  p: number;
  target: Target;
  subsamples: Int32Array[];
  args: PenalisedArgs;
  l1Ratio: number;
  keepsAll: boolean;
  /** Top k per subsample (0: the selector's own rule). */
  baseK: number;
}

/**
 * Chunk tasks for `cdChunk`, or null when the base selector / arguments / outcome are not ones
 * this path reproduces exactly (then the generic per-subsample path runs).
 */
export function cdChunkTasks(
  ds: Dataset,
  base: string,
  baseArgs: Record<string, unknown>,
  baseK: number,
  subsamples: Int32Array[],
  chunks: number,
): CdChunkTask[] | null {
  const spec = PENALISED[base];
  if (!spec || typeof baseArgs.alpha !== 'number') return null;
  const kind = ds.outcome.kind;
  if (kind !== 'continuous' && kind !== 'binary' && kind !== 'multiclass') return null;
  const target = targetOf(ds);
  const args = baseArgs as unknown as PenalisedArgs;
  const size = Math.ceil(subsamples.length / Math.max(1, chunks));
  const tasks: CdChunkTask[] = [];
  for (let s = 0; s < subsamples.length; s += size) {
    tasks.push({
      data: ds.data,
      nAll: ds.nSamples,
      p: ds.nFeatures,
      target,
      subsamples: subsamples.slice(s, s + size),
      args,
      l1Ratio: spec.l1Ratio(baseArgs),
      keepsAll: spec.keepsAll,
      baseK,
    });
  }
  return tasks;
}

/** Selected feature indices (best first) per subsample of the chunk; exported for worker threads. */
export function cdChunk(task: CdChunkTask): Int32Array[] {
  const { data, nAll, p, target, args, l1Ratio, keepsAll, baseK } = task;
  const opts: ElnetOptions = {
    l1Ratio,
    nLambda: args.n_alphas,
    eps: args.eps,
    standardize: args.standardize,
    intercept: true,
    warmTo: args.alpha!,
    // One penalty has few KKT checks: a float32 tensor copy of each design would not pay off.
    control: { ...DEFAULT_CONTROL, tol: args.tol, maxIter: args.max_iter, accel: false },
  };
  let maxRows = 0;
  for (const rows of task.subsamples) maxRows = Math.max(maxRows, rows.length);
  const buffer = wasmDesignBuffer(maxRows * p, maxRows + p) ?? new Float64Array(maxRows * p);
  const out: Int32Array[] = [];
  for (const rows of task.subsamples) {
    const fit = fitElnet(data, nAll, p, rows, target, opts, buffer);
    const m = fixedAlphaIndex(fit, args);
    const K = fit.fit.nClasses;
    const { beta } = originalScale(fit.fit, fit.scale, m);
    const scores = penalisedScores(beta, fit.scale.sd, p, K);
    out.push(
      rankSelected(fit.fit.order, fit.fit.coefs[m]!, K, scores, fit.scale.usable, {
        keepsAll,
        k: baseK,
      }),
    );
  }
  return out;
}

/**
 * `rankAndSelect`'s rule (score descending, ties by column order; top k, or the own rule) for
 * finite non-negative scores that are non-zero only on the model's entered features, without
 * sorting all p: own rule = non-zero coefficients (ridge: every usable feature).
 */
function rankSelected(
  order: Int32Array,
  coefs: Float64Array,
  K: number,
  scores: Float64Array,
  usable: Uint8Array,
  rule: { keepsAll: boolean; k: number },
): Int32Array {
  const p = scores.length;
  const byScore = (a: number, b: number): number => scores[b]! - scores[a]! || a - b;
  const nonzero: number[] = [];
  const k = order.length;
  for (let l = 0; l < k; l++) {
    for (let c = 0; c < K; c++) {
      if (coefs[c * k + l] !== 0) {
        nonzero.push(order[l]!);
        break;
      }
    }
  }
  if (rule.k > 0 || rule.keepsAll) {
    // Every feature can be chosen: rank all positive scores, then zeros in column order.
    const positive: number[] = [];
    const zero: number[] = [];
    for (let j = 0; j < p; j++) {
      if (scores[j]! > 0) positive.push(j);
      else if (rule.k > 0 || usable[j]) zero.push(j);
    }
    positive.sort(byScore);
    const all = positive.concat(zero);
    return Int32Array.from(rule.k > 0 ? all.slice(0, rule.k) : all);
  }
  return Int32Array.from(nonzero.sort(byScore));
}
