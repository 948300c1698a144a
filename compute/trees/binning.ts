/**
 * Quantile binning shared by every tree method (random forest, gradient boosting, Boruta).
 *
 * Each feature is cut once into at most `min(max_bin, 255)` value bins; bin code 255 is reserved
 * for missing values (NaN). Codes are one byte per cell, column-major like `Dataset.data`, in a
 * SharedArrayBuffer so worker threads read the same matrix without copying it.
 *
 * Split search is therefore histogram-based (as in LightGBM, XGBoost `hist` and scikit-learn's
 * HistGradientBoosting): a node can only split between bins. When a feature has at most
 * `max_bin` distinct values every distinct value gets its own bin and the search is exact; the
 * threshold is then the midpoint between the largest left and smallest right value present in
 * the node, which is what scikit-learn's exact CART computes (see `thresholdBetween`).
 */

import { parallelMap } from '../core/parallel';

/** Code for a missing value. Value bins are 0 … nBins-1 ≤ 254. */
export const MISSING_BIN = 255;
export const MAX_VALUE_BINS = 255;

export interface BinnedMatrix {
  n: number;
  p: number;
  /** n × p bin codes, column-major, SharedArrayBuffer-backed. */
  codes: Uint8Array;
  /** Value bins per feature (0 when the column is all missing). */
  nBins: Uint16Array;
  /** Feature j's bins are binMin/binMax[offsets[j] … offsets[j+1]). */
  offsets: Int32Array;
  /** Smallest and largest training value inside each bin (SharedArrayBuffer-backed). */
  binMin: Float64Array;
  binMax: Float64Array;
}

/** A typed array of `length` elements on a SharedArrayBuffer (zero-copy across threads). */
export function sharedArray<T extends Uint8Array | Float64Array | Int32Array | Uint16Array>(
  ctor: { new (buf: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new ctor(new SharedArrayBuffer(Math.max(1, length) * ctor.BYTES_PER_ELEMENT));
}

/**
 * Upper edges of the bins of one sorted, NaN-free column: returns the sorted indices at which a
 * new bin starts. Distinct values ≤ maxBin → one bin per distinct value; otherwise cuts at
 * equal-count quantile ranks, moved forward to the next change of value so equal values never
 * straddle two bins.
 */
function binStarts(sorted: Float64Array, m: number, maxBin: number): number[] {
  let distinct = m > 0 ? 1 : 0;
  for (let t = 1; t < m; t++) if (sorted[t] !== sorted[t - 1]) distinct++;
  const starts: number[] = [];
  if (m === 0) return starts;
  starts.push(0);
  if (distinct <= maxBin) {
    for (let t = 1; t < m; t++) if (sorted[t] !== sorted[t - 1]) starts.push(t);
    return starts;
  }
  let last = 0;
  for (let b = 1; b < maxBin; b++) {
    let t = Math.max(Math.floor((b * m) / maxBin), last + 1);
    while (t < m && sorted[t] === sorted[t - 1]) t++;
    if (t >= m) break;
    starts.push(t);
    last = t;
  }
  return starts;
}

/** Quicksort of v[lo..hi] (inclusive) carrying ix along; insertion sort below 16 elements. */
export function sortPairs(v: Float64Array, ix: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >> 1;
    const a = v[lo]!;
    const b = v[mid]!;
    const c = v[hi]!;
    const pv = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! < pv) i++;
      while (v[j]! > pv) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i] = v[j]!;
        v[j] = t;
        const u = ix[i]!;
        ix[i] = ix[j]!;
        ix[j] = u;
        i++;
        j--;
      }
    }
    // recurse into the smaller side, loop on the larger (bounded stack)
    if (j - lo < hi - i) {
      sortPairs(v, ix, lo, j);
      lo = i;
    } else {
      sortPairs(v, ix, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const x = v[i]!;
    const y = ix[i]!;
    let k = i - 1;
    while (k >= lo && v[k]! > x) {
      v[k + 1] = v[k]!;
      ix[k + 1] = ix[k]!;
      k--;
    }
    v[k + 1] = x;
    ix[k + 1] = y;
  }
}

export interface BinChunk {
  data: Float64Array;
  n: number;
  from: number;
  to: number;
  maxBin: number;
  codes: Uint8Array;
}

/**
 * Bin features [from, to): writes codes in place (shared memory) and returns the bin count and
 * the per-bin min/max of each feature, concatenated. Exported for worker threads.
 */
export function binChunk(t: BinChunk): {
  nBins: Uint16Array;
  mins: Float64Array;
  maxs: Float64Array;
} {
  const { data, n, codes } = t;
  const cap = Math.max(2, Math.min(MAX_VALUE_BINS, Math.floor(t.maxBin)));
  const nBins = new Uint16Array(t.to - t.from);
  const mins = new Float64Array((t.to - t.from) * cap);
  const maxs = new Float64Array((t.to - t.from) * cap);
  let k = 0;
  const v = new Float64Array(n);
  const ix = new Int32Array(n);
  for (let j = t.from; j < t.to; j++) {
    const base = j * n;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const x = data[base + i]!;
      if (x === x) {
        v[m] = x;
        ix[m++] = i;
      } else codes[base + i] = MISSING_BIN;
    }
    if (m > 1) sortPairs(v, ix, 0, m - 1);
    const starts = binStarts(v, m, cap);
    const nb = starts.length;
    nBins[j - t.from] = nb;
    for (let b = 0; b < nb; b++) {
      const s0 = starts[b]!;
      const s1 = b + 1 < nb ? starts[b + 1]! : m;
      mins[k] = v[s0]!;
      maxs[k++] = v[s1 - 1]!;
      for (let q = s0; q < s1; q++) codes[base + ix[q]!] = b;
    }
  }
  return { nBins, mins: mins.slice(0, k), maxs: maxs.slice(0, k) };
}

/**
 * Bin the columns of a column-major n × p Float64Array (NaN = missing).
 * `maxBin` counts value bins and is capped at 255 (code 255 is the missing bin).
 * Large matrices are binned on worker threads (feature chunks; identical result).
 */
export async function binColumns(
  data: Float64Array,
  n: number,
  p: number,
  maxBin = 256,
  threads = 1,
): Promise<BinnedMatrix> {
  return binInChunks(__filename, 'binChunk', binChunk, data, n, p, maxBin, threads);
}

/**
 * Runs a chunk binner (`fn`, exported as `name` from `module` for worker threads) over feature
 * chunks — on threads for large matrices, the data then copied once into shared memory — and
 * assembles the result (identical whatever the chunking: each feature is binned alone).
 */
export async function binInChunks(
  module: string,
  name: string,
  fn: (t: BinChunk) => ChunkBins,
  data: Float64Array,
  n: number,
  p: number,
  maxBin: number,
  threads: number,
): Promise<BinnedMatrix> {
  const codes = sharedArray(Uint8Array, n * p);
  const parts = Math.max(1, Math.min(threads, Math.floor((n * p) / 250_000), p));
  let shared = data;
  if (parts > 1 && !(data.buffer instanceof SharedArrayBuffer)) {
    shared = sharedArray(Float64Array, data.length);
    shared.set(data);
  }
  const chunks: BinChunk[] = [];
  for (let c = 0; c < parts; c++) {
    const from = Math.floor((c * p) / parts);
    const to = Math.floor(((c + 1) * p) / parts);
    chunks.push({ data: shared, n, from, to, maxBin, codes });
  }
  const results =
    parts === 1
      ? [fn(chunks[0]!)]
      : await parallelMap<BinChunk, ChunkBins>(module, name, chunks, { threads: parts });
  return assemble(n, p, codes, results);
}

/** What a chunk binner returns: per-feature bin counts, per-bin min / max concatenated. */
export interface ChunkBins {
  nBins: Uint16Array;
  mins: Float64Array;
  maxs: Float64Array;
}

/** Single-threaded binning (small inputs, tests). */
export function binColumnsSync(
  data: Float64Array,
  n: number,
  p: number,
  maxBin = 256,
): BinnedMatrix {
  const codes = sharedArray(Uint8Array, n * p);
  return assemble(n, p, codes, [binChunk({ data, n, from: 0, to: p, maxBin, codes })]);
}

function assemble(
  n: number,
  p: number,
  codes: Uint8Array,
  results: { nBins: Uint16Array; mins: Float64Array; maxs: Float64Array }[],
): BinnedMatrix {
  const nBins = new Uint16Array(p);
  const offsets = new Int32Array(p + 1);
  let j = 0;
  let total = 0;
  for (const r of results) {
    for (let a = 0; a < r.nBins.length; a++, j++) {
      nBins[j] = r.nBins[a]!;
      offsets[j] = total;
      total += r.nBins[a]!;
    }
  }
  offsets[p] = total;
  const binMin = sharedArray(Float64Array, total);
  const binMax = sharedArray(Float64Array, total);
  let off = 0;
  for (const r of results) {
    binMin.set(r.mins, off);
    binMax.set(r.maxs, off);
    off += r.mins.length;
  }
  return { n, p, codes, nBins, offsets, binMin, binMax };
}

/**
 * The split threshold between bin `lo` (last non-empty bin on the left) and bin `hi` (first
 * non-empty bin on the right) of feature `f`: midpoint of the largest left and smallest right
 * value, computed as scikit-learn does (`a/2 + b/2`, falling back to `a` when rounding lands on
 * `b`). `hi === MISSING_BIN` means "all values left, missing right": +Infinity.
 */
export function thresholdBetween(
  binMin: Float64Array,
  binMax: Float64Array,
  offsets: Int32Array,
  f: number,
  lo: number,
  hi: number,
): number {
  if (hi === MISSING_BIN) return Infinity;
  const a = binMax[offsets[f]! + lo]!;
  const b = binMin[offsets[f]! + hi]!;
  const t = a / 2 + b / 2;
  return t === b || !Number.isFinite(t) ? a : t;
}
