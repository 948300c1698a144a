/**
 * XGBoost 1.7's histogram cuts for `tree_method=hist` (`common::SketchOnDMatrix` with a
 * `HostSketchContainer`, src/common/quantile.{h,cc} at v1.7.4), so that gradient boosting bins a
 * feature with more than `max_bin` distinct values exactly as XGBoost does (finding F5).
 *
 * Per feature: the non-missing values, converted to float32 as XGBoost's DMatrix stores them, are
 * pushed in row order with unit weight (no hessian at this stage for `hist`) into a
 * `WQuantileSketch<float, float>` with eps = 1 / (8 · min(max_bin, m)); its summary is pruned to
 * min(m, 8 · max_bin) entries (`AllReduce`) and then to min(that, max_bin) + 1 (`MakeCuts`);
 * the cut values are the pruned summary's values 1 … max_bin − 1, then max + (|max| + 1e-5).
 * A value goes to bin `upper_bound(cuts, value)` (the last bin for anything larger): bin b holds
 * cuts[b−1] ≤ x < cuts[b]. Ranks are float32 in XGBoost (`RType = float`), so every rank
 * operation here is rounded with `Math.fround` to give the same prune decisions.
 *
 * With ≤ max_bin distinct values every value gets its own bin (as the quantile binning in
 * binning.ts); with more, bins differ from equal-count bins, and up to max_bin (256) value bins
 * occur — one more than the byte codes of binning.ts leave beside the missing code 255. This
 * matrix therefore codes values 0 … 255 and marks missing cells by the raw value (NaN) only:
 * boosting.ts reads missingness from the raw matrix, never from code 255.
 */
import {
  type BinChunk,
  binInChunks,
  type BinnedMatrix,
  type ChunkBins,
  sortPairs,
} from './binning';

const f32 = Math.fround;
/** `WQSketch::kFactor`. */
const K_FACTOR = 8;

/** A WQSummary: entries sorted by value with float32 rank bounds. */
interface Summary {
  rmin: number[];
  rmax: number[];
  wmin: number[];
  value: number[];
}

const empty = (): Summary => ({ rmin: [], rmax: [], wmin: [], value: [] });
const size = (s: Summary) => s.value.length;
const rminNext = (s: Summary, i: number) => f32(s.rmin[i]! + s.wmin[i]!);
const rmaxPrev = (s: Summary, i: number) => f32(s.rmax[i]! - s.wmin[i]!);

function push(s: Summary, src: Summary, i: number): void {
  s.rmin.push(src.rmin[i]!);
  s.rmax.push(src.rmax[i]!);
  s.wmin.push(src.wmin[i]!);
  s.value.push(src.value[i]!);
}

function copy(src: Summary): Summary {
  return {
    rmin: src.rmin.slice(),
    rmax: src.rmax.slice(),
    wmin: src.wmin.slice(),
    value: src.value.slice(),
  };
}

/** `Queue::MakeSummary`: sort the queued (value, weight) pairs, merge equal values. */
function makeSummary(qv: number[], qw: number[], qtail: number): Summary {
  const idx = Array.from({ length: qtail }, (_, i) => i).sort((a, b) => qv[a]! - qv[b]!);
  const out = empty();
  let wsum = 0;
  for (let a = 0; a < qtail;) {
    let b = a + 1;
    let w = qw[idx[a]!]!;
    while (b < qtail && qv[idx[b]!] === qv[idx[a]!]) w = f32(w + qw[idx[b++]!]!);
    out.rmin.push(wsum);
    out.rmax.push(f32(wsum + w));
    out.wmin.push(w);
    out.value.push(qv[idx[a]!]!);
    wsum = f32(wsum + w);
    a = b;
  }
  return out;
}

/** `WQSummary::SetPrune`: at most `maxsize` entries, chosen at evenly spaced ranks. */
export function setPrune(src: Summary, maxsize: number): Summary {
  const m = size(src);
  if (m <= maxsize) return src; // XGBoost copies; summaries are never mutated once built here
  const begin = src.rmax[0]!;
  const range = f32(src.rmin[m - 1]! - src.rmax[0]!);
  const n = maxsize - 1;
  const out = empty();
  push(out, src, 0);
  let i = 1;
  let lastidx = 0;
  for (let k = 1; k < n; k++) {
    const dx2 = f32(2 * f32(f32(f32(k * range) / n) + begin));
    while (i < m - 1 && dx2 >= f32(src.rmax[i + 1]! + src.rmin[i + 1]!)) i++;
    if (i === m - 1) break;
    if (dx2 < f32(rminNext(src, i) + rmaxPrev(src, i + 1))) {
      if (i !== lastidx) {
        push(out, src, i);
        lastidx = i;
      }
    } else if (i + 1 !== lastidx) {
      push(out, src, i + 1);
      lastidx = i + 1;
    }
  }
  if (lastidx !== m - 1) push(out, src, m - 1);
  return out;
}

/** `WQSummary::SetCombine` (merge of two summaries) followed by its `FixError`. */
function setCombine(sa: Summary, sb: Summary): Summary {
  if (size(sa) === 0) return copy(sb);
  if (size(sb) === 0) return copy(sa);
  const out = empty();
  const add = (rmin: number, rmax: number, wmin: number, value: number) => {
    out.rmin.push(rmin);
    out.rmax.push(rmax);
    out.wmin.push(wmin);
    out.value.push(value);
  };
  const na = size(sa);
  const nb = size(sb);
  let a = 0;
  let b = 0;
  let aprev = 0;
  let bprev = 0;
  while (a < na && b < nb) {
    const va = sa.value[a]!;
    const vb = sb.value[b]!;
    if (va === vb) {
      add(
        f32(sa.rmin[a]! + sb.rmin[b]!),
        f32(sa.rmax[a]! + sb.rmax[b]!),
        f32(sa.wmin[a]! + sb.wmin[b]!),
        va,
      );
      aprev = rminNext(sa, a++);
      bprev = rminNext(sb, b++);
    } else if (va < vb) {
      add(f32(sa.rmin[a]! + bprev), f32(sa.rmax[a]! + rmaxPrev(sb, b)), sa.wmin[a]!, va);
      aprev = rminNext(sa, a++);
    } else {
      add(f32(sb.rmin[b]! + aprev), f32(sb.rmax[b]! + rmaxPrev(sa, a)), sb.wmin[b]!, vb);
      bprev = rminNext(sb, b++);
    }
  }
  if (a < na) {
    const brmax = sb.rmax[nb - 1]!;
    for (; a < na; a++)
      add(f32(sa.rmin[a]! + bprev), f32(sa.rmax[a]! + brmax), sa.wmin[a]!, sa.value[a]!);
  }
  if (b < nb) {
    const armax = sa.rmax[na - 1]!;
    for (; b < nb; b++)
      add(f32(sb.rmin[b]! + aprev), f32(sb.rmax[b]! + armax), sb.wmin[b]!, sb.value[b]!);
  }
  // FixError: re-establish rmin / rmax monotonicity and rmax ≥ rmin + wmin
  let prevRmin = 0;
  let prevRmax = 0;
  for (let i = 0; i < size(out); i++) {
    if (out.rmin[i]! < prevRmin) out.rmin[i] = prevRmin;
    else prevRmin = out.rmin[i]!;
    if (out.rmax[i]! < prevRmax) out.rmax[i] = prevRmax;
    const next = rminNext(out, i);
    if (out.rmax[i]! < next) out.rmax[i] = next;
    prevRmax = out.rmax[i]!;
  }
  return out;
}

/** `WQuantileSketch::LimitSizeLevel` (eps in double, as XGBoost). */
function limitSizeLevel(maxn: number, eps: number): { nlevel: number; limit: number } {
  let nlevel = 1;
  for (;;) {
    const limit = Math.min(maxn, Math.ceil(nlevel / eps) + 1);
    if (2 ** nlevel * limit >= maxn) return { nlevel, limit };
    nlevel++;
  }
}

/**
 * The float32 values of one column (NaN-free, row order) through XGBoost's sketch: returns the
 * cut values (ascending; the last is above every value).
 */
export function xgbCuts(values: ArrayLike<number>, maxBin: number): Float32Array {
  const m = values.length;
  if (m === 0) {
    const mval = f32(1e-5);
    return Float32Array.of(f32(mval + f32(Math.abs(mval) + f32(1e-5))));
  }
  const nBins = Math.max(1, Math.min(maxBin, m));
  const eps = 1 / f32(nBins * K_FACTOR);
  const { limit } = limitSizeLevel(m, eps);
  const cap = limit * 2;
  if (m <= cap) {
    const v = Float32Array.from(values).sort();
    return finishCuts(exactSummary(v, m), m, limit, maxBin);
  }
  // the queue merges consecutive equal values; a full queue becomes a summary pushed up levels
  const qv: number[] = [];
  const qw: number[] = [];
  let qtail = 0;
  const level: Summary[] = [empty()]; // level[0] is scratch space, as XGBoost's
  const pushTemp = (temp: Summary) => {
    for (let l = 1; ; l++) {
      while (level.length < l + 1) level.push(empty()); // InitLevel(l + 1)
      if (size(level[l]!) === 0) {
        level[l] = setPrune(temp, limit);
        break;
      }
      level[0] = setPrune(temp, limit);
      temp = setCombine(level[0], level[l]!);
      if (size(temp) > limit) level[l] = empty();
      else {
        level[l] = copy(temp);
        break;
      }
    }
  };
  for (let i = 0; i < m; i++) {
    const x = f32(values[i]!);
    if (qtail === cap && qv[qtail - 1] !== x) {
      pushTemp(makeSummary(qv, qw, qtail));
      qtail = 0;
    }
    if (qtail === 0 || qv[qtail - 1] !== x) {
      qv[qtail] = x;
      qw[qtail++] = 1;
    } else qw[qtail - 1] = f32(qw[qtail - 1]! + 1);
  }
  // GetSummary
  let out = makeSummary(qv, qw, qtail);
  if (level.length === 1) return finishCuts(out, m, limit, maxBin);
  level[0] = setPrune(out, limit);
  for (let l = 1; l < level.length; l++) {
    if (size(level[l]!) === 0) continue;
    if (size(level[0]) === 0) level[0] = copy(level[l]!);
    else {
      out = setCombine(level[0], level[l]!);
      level[0] = setPrune(out, limit);
    }
  }
  return finishCuts(copy(level[0]), m, Infinity, maxBin);
}

/**
 * The queue's summary when it never filled (m ≤ 2 · limit_size, i.e. n ≤ 8,194 at max_bin 256):
 * every distinct value with its count — what `MakeSummary` gives. `sorted` holds the float32
 * values in ascending order.
 */
function exactSummary(sorted: ArrayLike<number>, m: number): Summary {
  const out = empty();
  let wsum = 0;
  for (let a = 0; a < m;) {
    let b = a + 1;
    while (b < m && sorted[b] === sorted[a]) b++;
    const w = b - a;
    out.rmin.push(wsum);
    out.rmax.push(wsum + w);
    out.wmin.push(w);
    out.value.push(sorted[a]!);
    wsum += w; // integer counts: exact in float32 below 2^24
    a = b;
  }
  return out;
}

/**
 * The end of `GetSummary` without levels (prune to limit_size), then `AllReduce` with one worker
 * and `MakeCuts`: cut values from a summary of m values.
 */
function finishCuts(out: Summary, m: number, limit: number, maxBin: number): Float32Array {
  if (size(out) > limit) out = setPrune(out, limit);
  const intermediate = Math.min(m, maxBin * K_FACTOR);
  const reduced = setPrune(out, intermediate);
  const maxNumBins = Math.min(intermediate, maxBin);
  const a = setPrune(reduced, maxNumBins + 1);
  const cuts: number[] = [];
  const required = Math.min(size(a), maxNumBins);
  for (let i = 1; i < required; i++) {
    const c = a.value[i]!;
    if (i === 1 || c > cuts[cuts.length - 1]!) cuts.push(c);
  }
  const cpt = a.value[size(a) - 1]!;
  cuts.push(f32(cpt + f32(Math.abs(cpt) + f32(1e-5))));
  return Float32Array.from(cuts);
}

/**
 * `xgbCuts` for values already rounded to float32 and sorted ascending (`sorted[0 … m)`), given
 * in row order as well (`rowOrder`, needed only when the sketch's queue overflows).
 */
function xgbCutsSorted(
  sorted: Float64Array,
  rowOrder: Float64Array,
  m: number,
  maxBin: number,
): Float32Array {
  const nBins = Math.max(1, Math.min(maxBin, m));
  const { limit } = limitSizeLevel(m, 1 / f32(nBins * K_FACTOR));
  if (m > limit * 2) return xgbCuts(rowOrder.subarray(0, m), maxBin);
  return finishCuts(exactSummary(sorted, m), m, limit, maxBin);
}

/**
 * Bin a column-major n × p matrix (NaN = missing) with XGBoost's hist cuts. Codes 0 … 255 are
 * value bins; a missing cell also holds 255 — read missingness from the raw values.
 * `binMin` / `binMax` are the smallest / largest float64 training value in each bin (NaN for an
 * empty bin, which XGBoost's cuts never produce: every cut is a training value).
 * Large matrices are binned on `threads` worker threads (feature chunks; identical result).
 */
export async function binColumnsXgb(
  data: Float64Array,
  n: number,
  p: number,
  maxBin = 256,
  threads = 1,
): Promise<BinnedMatrix> {
  return binInChunks(__filename, 'xgbBinChunk', xgbBinChunk, data, n, p, maxBin, threads);
}

/**
 * Bin features [from, to) with XGBoost's cuts: writes codes in place (shared memory), returns
 * the bin counts and per-bin min / max (at most `cap` bins a feature: the cuts never exceed
 * min(max_bin, distinct values)). Exported for worker threads.
 */
export function xgbBinChunk(t: BinChunk): ChunkBins {
  const { data, n, codes } = t;
  const cap = Math.max(2, Math.min(256, Math.floor(t.maxBin)));
  const nBins = new Uint16Array(t.to - t.from);
  const mins = new Float64Array((t.to - t.from) * cap);
  const maxs = new Float64Array((t.to - t.from) * cap);
  const rowVals = new Float64Array(n);
  const v = new Float64Array(n);
  const ix = new Int32Array(n);
  let off = 0;
  for (let j = t.from; j < t.to; j++) {
    const base = j * n;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const x = data[base + i]!;
      if (x === x) {
        rowVals[m] = x;
        v[m] = f32(x);
        ix[m++] = i;
      } else codes[base + i] = 255;
    }
    if (m === 0) continue;
    if (m > 1) sortPairs(v, ix, 0, m - 1);
    const cuts = xgbCutsSorted(v, rowVals, m, cap);
    const nb = cuts.length;
    nBins[j - t.from] = nb;
    mins.fill(NaN, off, off + nb);
    maxs.fill(NaN, off, off + nb);
    // walk the sorted values: bin b holds cuts[b-1] ≤ x < cuts[b] (SearchBin's upper_bound),
    // the last bin everything from cuts[nb-2] up
    let b = 0;
    for (let q = 0; q < m; q++) {
      while (b < nb - 1 && v[q]! >= cuts[b]!) b++;
      const i = ix[q]!;
      const x = data[base + i]!;
      codes[base + i] = b;
      if (!(x >= mins[off + b]!)) mins[off + b] = x;
      if (!(x <= maxs[off + b]!)) maxs[off + b] = x;
    }
    off += nb;
  }
  return { nBins, mins: mins.slice(0, off), maxs: maxs.slice(0, off) };
}
