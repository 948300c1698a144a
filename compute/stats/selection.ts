/**
 * Shared plumbing for the statistical filters: run a per-feature kernel in column chunks (abort
 * checks and progress between chunks; the column-major layout makes a chunk a zero-copy subarray),
 * adjust p-values, and turn them into a SelectorResult.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorResult } from '../core/method';
import { Scratch } from '../core/scratch';
import { recordOf, withLazy } from './lazy';
import { adjustPValues, P_ADJUST_METHODS, type PAdjustMethod } from './padjust';
import { rankOrder, sortAscendingStable } from './ranking';
import { selectKth } from './sort';
import { bucketTopOrder } from './top_buckets';
import { type FeatureTests } from './univariate';

/** Features per chunk: big enough that the per-chunk overhead vanishes, small enough to abort fast. */
const CHUNK = 2048;

export const pValueArgs = {
  p_adjust: {
    type: 'enum',
    values: P_ADJUST_METHODS,
    default: 'bh',
    doc: 'Multiple-testing adjustment: bh (Benjamini–Hochberg FDR), bonferroni, holm, or none (as R p.adjust).',
  },
  alpha: {
    type: 'number',
    default: 0.05,
    min: 0,
    max: 1,
    doc: 'Without k, keep features whose adjusted p-value is ≤ alpha.',
  },
} satisfies ArgSpecs;

export interface PValueArgs {
  p_adjust: PAdjustMethod;
  alpha: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise(resolve => setImmediate(resolve));

/**
 * Apply `kernel` to consecutive column blocks and concatenate the per-feature results. Yields to
 * the event loop between blocks so an AbortSignal fired by a timer or a cancel message is seen.
 */
export async function chunkedTests(
  ds: Dataset,
  ctx: RunContext,
  stage: string,
  kernel: (data: Float64Array, nFeatures: number) => FeatureTests,
): Promise<FeatureTests> {
  const p = ds.nFeatures;
  const n = ds.nSamples;
  const out: FeatureTests = {
    statistic: new Float64Array(p),
    pValue: new Float64Array(p),
    logP: new Float64Array(p),
    df: new Float64Array(p),
  };
  for (let j0 = 0; j0 < p; j0 += CHUNK) {
    checkAbort(ctx.signal);
    const j1 = Math.min(p, j0 + CHUNK);
    const part = kernel(ds.data.subarray(j0 * n, j1 * n), j1 - j0);
    out.statistic.set(part.statistic, j0);
    out.pValue.set(part.pValue, j0);
    out.logP.set(part.logP, j0);
    out.df.set(part.df, j0);
    ctx.progress(j1 / p, stage);
    if (j1 < p) await yieldToEventLoop();
  }
  checkAbort(ctx.signal);
  return out;
}

/**
 * Same contract and order as core/select.ts `rankAndSelect` (score descending, ties by column,
 * NaN last; top k, or the features `keep` accepts), using the comparator-free rankOrder: on
 * 20,000 features the comparator sort alone took longer than a whole t-test scan.
 */
export function selectByScore(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  k: number | undefined,
  keep?: (j: number) => boolean,
): { selected: string[]; scores: Record<string, number>; order: Int32Array } {
  return selectInOrder(ds, scores, rankOrder(scores), k, keep);
}

/** selectByScore with the order (rankOrder(scores)) already computed. */
function selectInOrder(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  order: Int32Array,
  k: number | undefined,
  keep?: (j: number) => boolean,
): { selected: string[]; scores: Record<string, number>; order: Int32Array } {
  const selected = selectNames(ds, scores, order, k, keep);
  return { selected, scores: recordOf(ds.featureNames, scores), order };
}

/**
 * The selected names, best first, as selectByScore's `selected`, sorting only what is returned:
 * the top k (k > 0: the full ranking), or only the features the own rule keeps — a 20,000-feature
 * filter that keeps a few dozen then sorts a few dozen scores, not 20,000.
 */
export function selectTop(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  k: number | undefined,
  keep: (j: number) => boolean,
): string[] {
  if (k !== undefined && k > 0) return selectNames(ds, scores, topOrder(scores, k), k);
  const kept: number[] = [];
  for (let j = 0; j < scores.length; j++) if (scores[j] === scores[j] && keep(j)) kept.push(j);
  const sub = new Float64Array(kept.length);
  for (let r = 0; r < kept.length; r++) sub[r] = scores[kept[r]!]!;
  // rankOrder breaks ties by position, and `kept` is in column order: the same order as ranking all.
  const order = rankOrder(sub);
  const names = ds.featureNames;
  const selected: string[] = new Array<string>(kept.length);
  for (let r = 0; r < kept.length; r++) selected[r] = names[kept[order[r]!]!]!;
  return selected;
}

/**
 * The first min(k, p) entries of rankOrder(scores) (score descending, ties by index, NaN last)
 * without ranking everything: by the WebAssembly bucket pass of top_buckets.ts where it takes the
 * scores (500 of 2,000: 5.5 against 15 µs; 500 of 20,000: 45 against 75 µs, CI VM, AMD EPYC,
 * 23 Nov 2026); otherwise the k-th best score by quickselect, then only the features above it
 * are sorted (ranking.ts), followed by the first of those equal to it. numpy's `argsort(-s)[:k]`
 * sorts all p. Falls back to the full ranking when k is not small against p or when NaN scores
 * would be needed to fill k.
 */
export function topOrder(scores: ArrayLike<number>, k: number): Int32Array {
  const p = scores.length;
  if (2 * k > p) return rankOrder(scores).subarray(0, Math.min(k, p));
  const fast = bucketTopOrder(scores, k);
  if (fast) return fast;
  // Work space reused across calls (see core/scratch.ts): fresh p-long arrays per call cost
  // about as much as the 2,000-feature quickselect.
  const neg = negScratch.take(p);
  let m = 0;
  for (let j = 0; j < p; j++) {
    const s = scores[j]!;
    if (s === s) neg[m++] = -s;
  }
  if (m <= k) return rankOrder(scores).subarray(0, Math.min(k, p));
  const cut = -selectKth(neg, 0, m, k - 1);
  // one pass: every feature scoring above the cut (fewer than k), and those equal to it
  const order = new Int32Array(k);
  const keys = neg; // done with the quickselect: −score of the features above the cut
  const ties = tieScratch.take(p);
  let above = 0;
  let tied = 0;
  for (let j = 0; j < p; j++) {
    const s = scores[j]!;
    if (s > cut) {
      order[above] = j;
      keys[above++] = -s;
    } else if (s === cut) ties[tied++] = j;
  }
  sortAscendingStable(keys, order, above);
  // the cut's ties rank below every score above it, among themselves by index
  for (let r = above, t = 0; r < k; r++) order[r] = ties[t++]!;
  return order;
}

const negScratch = Scratch.f64();
const tieScratch = Scratch.i32();

/**
 * The selected names, best first, from the ranking `order` (= rankOrder(scores)): the top k, or
 * the features with a non-NaN score that `keep` accepts. For callers that build the score record
 * lazily (see lazy.ts).
 */
export function selectNames(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  order: Int32Array,
  k: number | undefined,
  keep?: (j: number) => boolean,
): string[] {
  const names = ds.featureNames;
  if (k !== undefined && k > 0) {
    // filled in place: half the time of pushing (500 names: 0.75 against 1.6–1.8 µs)
    const top = new Array<string>(Math.min(k, order.length));
    for (let r = 0; r < top.length; r++) top[r] = names[order[r]!]!;
    return top;
  }
  const selected: string[] = [];
  for (let r = 0; r < order.length; r++) {
    const j = order[r]!;
    if (scores[j] === scores[j] && (keep ? keep(j) : true)) selected.push(names[j]!);
  }
  return selected;
}

/** A per-feature array as a {featureName: value} record (JSON turns NaN/Infinity into null). */
export function byFeature(ds: Dataset, values: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let j = 0; j < ds.nFeatures; j++) out[ds.featureNames[j]!] = values[j]!;
  return out;
}

/** One number when every feature has the same value (e.g. df without missing values), else a record. */
export function scalarOrByFeature(
  ds: Dataset,
  values: ArrayLike<number>,
): number | Record<string, number> {
  for (let j = 1; j < ds.nFeatures; j++) {
    if (values[j] !== values[0] && !(values[j] !== values[j] && values[0] !== values[0])) {
      return byFeature(ds, values);
    }
  }
  return values[0] ?? NaN;
}

/** −log10 p from ln p: finite even where p itself underflows to 0. */
export function negLog10P(logP: Float64Array): Float64Array {
  const out = new Float64Array(logP.length);
  for (let j = 0; j < logP.length; j++) out[j] = -logP[j]! / Math.LN10;
  return out;
}

/**
 * Result of a p-value filter: score = −log10 p (higher = stronger evidence); with k > 0 the top
 * k, otherwise every feature with adjusted p ≤ alpha. Diagnostics carry the statistic, raw and
 * adjusted p-values per feature.
 */
export function pValueResult(
  ds: Dataset,
  tests: FeatureTests,
  args: PValueArgs,
  k: number | undefined,
  extra: {
    params?: Record<string, unknown>;
    diagnostics?: Record<string, unknown>;
    scores?: Float64Array;
  },
): SelectorResult {
  const scores = extra.scores ?? negLog10P(tests.logP);
  const order = rankOrder(scores);
  // Ranked by −log10 p (or by |r| at a common n) the order is also one of ascending p: BH / Holm
  // reuse it instead of sorting again (adjustPValues checks it, and sorts itself when it is not).
  const adjusted = adjustPValues(tests.pValue, args.p_adjust, order);
  const selected = selectNames(ds, scores, order, k, j => adjusted[j]! <= args.alpha);
  let nSignificant = 0;
  for (let j = 0; j < adjusted.length; j++) if (adjusted[j]! <= args.alpha) nSignificant++;
  // The four name-keyed records (scores, statistic, p, adjusted p) are built on first read (see
  // lazy.ts): at 20,000 features they cost more than the test itself, and many callers only use
  // `selected`.
  const names = ds.featureNames;
  const diagnostics = withLazy(
    { ...extra.diagnostics, nSignificant },
    {
      statistic: () => recordOf(names, tests.statistic),
      pValues: () => recordOf(names, tests.pValue),
      adjustedPValues: () => recordOf(names, adjusted),
    },
  );
  return withLazy(
    {
      selected,
      params: { ...extra.params, p_adjust: args.p_adjust, alpha: args.alpha },
      diagnostics,
      backend: 'float64',
    },
    { scores: () => recordOf(names, scores) },
  );
}
