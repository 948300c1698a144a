/**
 * CART on binned features (the random-forest tree): gini / entropy / squared_error, depth-first
 * growth in the node order scikit-learn uses (left subtree first), `max_features` features drawn
 * per node without replacement, histogram split search.
 *
 * Split rules follow scikit-learn's BestSplitter: a candidate is valid when both children keep at
 * least `min_samples_leaf` (unweighted, distinct in-bag) samples; the best proxy improvement wins
 * (strictly greater, so the first feature drawn wins ties); features constant in the node do not
 * count towards `max_features`; a node is a leaf when pure, too small, at `max_depth`, or when no
 * valid split exists.
 *
 * Missing values (bin 255): each candidate is scored with the node's missing samples on the left
 * and on the right, and "all values left | missing right" is a candidate too. When a node saw no
 * missing values in training, missing values go to the child with more samples at prediction
 * time (scikit-learn ≥ 1.3's rule).
 */
import { type Rng } from '../core/rng';
import { MISSING_BIN } from './binning';
import { TreeBuilder } from './tree';

export type Criterion = 'gini' | 'entropy' | 'squared_error';

export interface CartParams {
  criterion: Criterion;
  /** Infinity = unlimited. */
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features drawn per node. */
  mtry: number;
  minImpurityDecrease: number;
}

export interface CartData {
  n: number;
  p: number;
  codes: Uint8Array;
  /** Number of classes; 0 for regression. */
  nClasses: number;
  labels: Int32Array | null;
  values: Float64Array | null;
}

const EPSILON = 2.220446049250313e-16;

/** Reusable scratch space for growing many trees on the same data (one per worker task). */
export class CartGrower {
  private readonly C: number;
  private readonly hist: Float64Array;
  private readonly histY: Float64Array;
  private readonly cnt: Int32Array;
  private readonly touched: Int32Array;
  /** Bitmap of the bins touched by the current histogram (256 bits). */
  private readonly bits = new Int32Array(8);
  /** Unweighted bin counts are needed only for min_samples_leaf > 1. */
  private readonly counted: boolean;
  private readonly feat: Int32Array;
  private readonly accL: Float64Array;
  private readonly tot: Float64Array;
  private readonly miss: Float64Array;
  /** Class weight totals (classes) or Σwy (regression) of the node being split; nodeW = Σw. */
  private readonly nodeTot: Float64Array;
  private nodeW = 0;
  // best split of the current node
  private bestProxy = -Infinity;
  private bestF = -1;
  private bestLo = 0;
  private bestHi = 0;
  private bestMissLeft = 0;
  private bestHasMissing = false;

  constructor(
    private readonly d: CartData,
    private readonly prm: CartParams,
  ) {
    this.C = d.nClasses > 0 ? d.nClasses : 1;
    this.counted = prm.minSamplesLeaf > 1;
    this.hist = new Float64Array(256 * this.C);
    this.histY = new Float64Array(256);
    this.cnt = new Int32Array(256);
    this.touched = new Int32Array(256);
    this.feat = new Int32Array(d.p);
    for (let j = 0; j < d.p; j++) this.feat[j] = j;
    this.accL = new Float64Array(this.C);
    this.tot = new Float64Array(this.C);
    this.miss = new Float64Array(this.C);
    this.nodeTot = new Float64Array(this.C);
  }

  /**
   * Grow one tree on rows `idx` (distinct, reordered in place) with per-row weights `w`
   * (bootstrap count × class weight). Thresholds are left to the caller (bin space only).
   */
  grow(idx: Int32Array, w: Float64Array, rng: Rng): TreeBuilder {
    const { nClasses } = this.d;
    const nOut = nClasses > 0 ? nClasses : 1;
    const tb = new TreeBuilder(nOut, 128);
    // feature draws depend only on this tree's generator, never on earlier trees in the batch
    for (let j = 0; j < this.d.p; j++) this.feat[j] = j;
    // stack of [start, end, depth, parent, isLeft]
    const stack: number[] = [0, idx.length, 0, -1, 0];
    const rootW = { value: 0 };
    while (stack.length) {
      const isLeft = stack.pop()!;
      const parent = stack.pop()!;
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const t = tb.add();
      if (parent >= 0) {
        if (isLeft) tb.left[parent] = t;
        else tb.right[parent] = t;
      }
      const { W, impurity } = this.nodeStats(idx, start, end, w, tb, t);
      this.nodeTot.set(this.tot);
      this.nodeW = W;
      if (parent < 0) rootW.value = W;
      const N = end - start;
      const { maxDepth, minSamplesSplit, minSamplesLeaf } = this.prm;
      if (
        depth >= maxDepth ||
        N < minSamplesSplit ||
        N < 2 * minSamplesLeaf ||
        impurity <= EPSILON ||
        !this.findSplit(idx, start, end, w, rng)
      ) {
        continue;
      }
      const mid = this.partition(idx, start, end);
      if (this.prm.minImpurityDecrease > 0) {
        const wl = this.weightAndImpurity(idx, start, mid, w);
        const wr = this.weightAndImpurity(idx, mid, end, w);
        const improvement =
          (W / rootW.value) * (impurity - (wl[0] / W) * wl[1] - (wr[0] / W) * wr[1]);
        if (improvement + EPSILON < this.prm.minImpurityDecrease) continue;
      }
      tb.feature[t] = this.bestF;
      tb.binLo[t] = this.bestLo;
      tb.binHi[t] = this.bestHi;
      tb.missingLeft[t] = this.bestHasMissing
        ? this.bestMissLeft
        : mid - start >= end - mid
          ? 1
          : 0;
      // right pushed first so the left child is built (and numbered) first, as in scikit-learn
      stack.push(mid, end, depth + 1, t, 0);
      stack.push(start, mid, depth + 1, t, 1);
    }
    return tb;
  }

  /** Node value (class probabilities or mean), weight and impurity. */
  private nodeStats(
    idx: Int32Array,
    start: number,
    end: number,
    w: Float64Array,
    tb: TreeBuilder,
    t: number,
  ): { W: number; impurity: number } {
    const [W, impurity] = this.weightAndImpurity(idx, start, end, w);
    const C = this.C;
    if (this.d.nClasses > 0) {
      for (let c = 0; c < C; c++) tb.value[t * C + c] = W > 0 ? this.tot[c]! / W : 0;
    } else {
      tb.value[t] = W > 0 ? this.tot[0]! / W : 0;
    }
    tb.weight[t] = W;
    tb.impurity[t] = impurity;
    return { W, impurity };
  }

  /** [weight, impurity] of rows idx[start, end); leaves class totals / Σwy in `tot`. */
  private weightAndImpurity(
    idx: Int32Array,
    start: number,
    end: number,
    w: Float64Array,
  ): [number, number] {
    const tot = this.tot;
    tot.fill(0);
    let W = 0;
    if (this.d.nClasses > 0) {
      const y = this.d.labels!;
      for (let s = start; s < end; s++) {
        const i = idx[s]!;
        const wi = w[i]!;
        tot[y[i]!] += wi;
        W += wi;
      }
      if (W <= 0) return [0, 0];
      let imp = 0;
      if (this.prm.criterion === 'entropy') {
        for (let c = 0; c < this.C; c++) {
          const q = tot[c]! / W;
          if (q > 0) imp -= q * Math.log2(q);
        }
      } else {
        let sq = 0;
        for (let c = 0; c < this.C; c++) sq += (tot[c]! / W) ** 2;
        imp = 1 - sq;
      }
      return [W, imp];
    }
    const y = this.d.values!;
    let sy = 0;
    let syy = 0;
    for (let s = start; s < end; s++) {
      const i = idx[s]!;
      const wi = w[i]!;
      const v = y[i]!;
      W += wi;
      sy += wi * v;
      syy += wi * v * v;
    }
    tot[0] = sy;
    if (W <= 0) return [0, 0];
    const mean = sy / W;
    return [W, syy / W - mean * mean];
  }

  /** Rows of the best split's left child first; returns the boundary. */
  private partition(idx: Int32Array, start: number, end: number): number {
    const codes = this.d.codes;
    const base = this.bestF * this.d.n;
    const lo = this.bestLo;
    const missLeft = this.bestHasMissing ? this.bestMissLeft === 1 : false;
    let i = start;
    let k = end - 1;
    while (i <= k) {
      const b = codes[base + idx[i]!]!;
      const goLeft = b === MISSING_BIN ? missLeft : b <= lo;
      if (goLeft) i++;
      else {
        const tmp = idx[i]!;
        idx[i] = idx[k]!;
        idx[k] = tmp;
        k--;
      }
    }
    return i;
  }

  /** Draw features until `mtry` non-constant ones were scored; false when no valid split. */
  private findSplit(
    idx: Int32Array,
    start: number,
    end: number,
    w: Float64Array,
    rng: Rng,
  ): boolean {
    const { p } = this.d;
    const feat = this.feat;
    this.bestProxy = -Infinity;
    this.bestF = -1;
    let visited = 0;
    for (let j = 0; j < p && visited < this.prm.mtry; j++) {
      const r = j + rng.int(p - j);
      const f = feat[r]!;
      feat[r] = feat[j]!;
      feat[j] = f;
      if (this.scoreFeature(f, idx, start, end, w)) visited++;
    }
    return this.bestF >= 0;
  }

  /** Histogram of feature f over the node and best split on it; false when constant in node. */
  private scoreFeature(
    f: number,
    idx: Int32Array,
    start: number,
    end: number,
    w: Float64Array,
  ): boolean {
    const { codes, n, nClasses } = this.d;
    const C = this.C;
    const cnt = this.cnt;
    const hist = this.hist;
    const touched = this.touched;
    const base = f * n;
    const bits = this.bits;
    if (nClasses > 0) {
      const y = this.d.labels!;
      if (this.counted) {
        for (let s = start; s < end; s++) {
          const i = idx[s]!;
          const b = codes[base + i]!;
          if (cnt[b]++ === 0) bits[b >> 5] |= 1 << (b & 31);
          hist[b * C + y[i]!] += w[i]!;
        }
      } else if (C === 2) {
        // the Boruta / binary-forest hot loop: labels are 0 | 1, so b·2 + y is a shift and an or
        for (let s = start; s < end; s++) {
          const i = idx[s]!;
          const b = codes[base + i]!;
          bits[b >> 5] |= 1 << (b & 31);
          hist[(b << 1) | y[i]!] += w[i]!;
        }
      } else {
        for (let s = start; s < end; s++) {
          const i = idx[s]!;
          const b = codes[base + i]!;
          bits[b >> 5] |= 1 << (b & 31);
          hist[b * C + y[i]!] += w[i]!;
        }
      }
    } else {
      const y = this.d.values!;
      const hy = this.histY;
      const counted = this.counted;
      for (let s = start; s < end; s++) {
        const i = idx[s]!;
        const b = codes[base + i]!;
        if (counted) cnt[b]++;
        bits[b >> 5] |= 1 << (b & 31);
        const wi = w[i]!;
        hist[b] += wi;
        hy[b] += wi * y[i]!;
      }
    }
    // missing present: bit 255; its count only matters (and is only kept) when counted
    const nMiss = this.counted ? cnt[MISSING_BIN]! : bits[7]! >>> 31;
    // non-empty value bins in ascending order from the bitmap (missing bin 255 excluded)
    bits[7] &= 0x7fffffff;
    let nt = 0;
    for (let wd = 0; wd < 8; wd++) {
      let x = bits[wd]!;
      bits[wd] = 0;
      while (x !== 0) {
        const low = x & -x;
        touched[nt++] = (wd << 5) + 31 - Math.clz32(low);
        x ^= low;
      }
    }
    const constant = nt + (nMiss > 0 ? 1 : 0) <= 1;
    if (!constant) {
      const N = end - start;
      if (nClasses === 0) this.scanRegression(f, N, nMiss, nt);
      else if (C === 2 && this.prm.criterion === 'gini') {
        if (nMiss === 0 && !this.counted) {
          // common case (no missing value, min_samples_leaf 1): scans and clears in one pass
          this.scanGini2Dense(f, nt);
          return true;
        }
        this.scanGini2(f, N, nMiss, nt);
      } else this.scanClasses(f, N, nMiss, nt);
    }
    // reset only what was touched
    for (let a = 0; a < nt; a++) {
      const b = touched[a]!;
      if (this.counted) cnt[b] = 0;
      for (let c = 0; c < C; c++) hist[b * C + c] = 0;
      if (nClasses === 0) this.histY[b] = 0;
    }
    if (nMiss > 0) {
      cnt[MISSING_BIN] = 0;
      for (let c = 0; c < C; c++) hist[MISSING_BIN * C + c] = 0;
      if (nClasses === 0) this.histY[MISSING_BIN] = 0;
    }
    return !constant;
  }

  /*
   * The scans below walk the non-empty value bins in ascending order (`touched[0..nt)`) and score
   * each boundary between consecutive ones: first with the node's missing rows on the right,
   * then (when there are any) on the left; finally "all values | missing". Node totals over value
   * bins are the node totals minus the missing bin (set by the caller in `nodeTot`).
   */

  /**
   * `scanGini2` without missing values and with min_samples_leaf 1 (every boundary between
   * non-empty bins is valid), clearing each histogram bin as it is read so no reset pass is
   * needed. The arithmetic is `scanGini2`'s, operation for operation (m0 = m1 = 0 there), so the
   * chosen split is bit-identical.
   */
  private scanGini2Dense(f: number, nt: number): void {
    const hist = this.hist;
    const touched = this.touched;
    const t0 = this.nodeTot[0]! - 0;
    const t1 = this.nodeTot[1]! - 0;
    let prev = touched[0]!;
    let a0 = hist[prev << 1]!;
    let a1 = hist[(prev << 1) | 1]!;
    hist[prev << 1] = 0;
    hist[(prev << 1) | 1] = 0;
    let best = this.bestProxy;
    for (let a = 1; a < nt; a++) {
      const b = touched[a]!;
      const r0 = t0 - a0 + 0;
      const r1 = t1 - a1 + 0;
      const wl = a0 + a1;
      const wr = r0 + r1;
      if (wl > 0 && wr > 0) {
        const v = (a0 * a0 + a1 * a1) / wl + (r0 * r0 + r1 * r1) / wr;
        if (v > best) {
          best = v;
          this.record(v, f, prev, b, 0, false);
        }
      }
      const h0 = hist[b << 1]!;
      const h1 = hist[(b << 1) | 1]!;
      hist[b << 1] = 0;
      hist[(b << 1) | 1] = 0;
      a0 += h0;
      a1 += h1;
      prev = b;
    }
  }

  /** Binary classification with gini: the common case, fully unrolled. */
  private scanGini2(f: number, N: number, nMiss: number, nt: number): void {
    const hist = this.hist;
    const cnt = this.cnt;
    const touched = this.touched;
    // with min_samples_leaf = 1 every boundary between non-empty bins is valid: no counts kept
    const msl = this.counted ? this.prm.minSamplesLeaf : 0;
    const m0 = hist[MISSING_BIN * 2]!;
    const m1 = hist[MISSING_BIN * 2 + 1]!;
    const t0 = this.nodeTot[0]! - m0;
    const t1 = this.nodeTot[1]! - m1;
    let a0 = 0;
    let a1 = 0;
    let nL = 0;
    let prev = -1;
    for (let a = 0; a <= nt; a++) {
      const b = a < nt ? touched[a]! : MISSING_BIN;
      if (a === nt && (nMiss === 0 || nt === 0)) break;
      if (prev >= 0) {
        // missing right
        if (nL >= msl && N - nL >= msl) {
          const r0 = t0 - a0 + m0;
          const r1 = t1 - a1 + m1;
          const wl = a0 + a1;
          const wr = r0 + r1;
          if (wl > 0 && wr > 0) {
            const v = (a0 * a0 + a1 * a1) / wl + (r0 * r0 + r1 * r1) / wr;
            if (v > this.bestProxy) this.record(v, f, prev, b, 0, nMiss > 0);
          }
        }
        // missing left
        if (nMiss > 0 && b !== MISSING_BIN && nL + nMiss >= msl && N - nL - nMiss >= msl) {
          const l0 = a0 + m0;
          const l1 = a1 + m1;
          const r0 = t0 - a0;
          const r1 = t1 - a1;
          const wl = l0 + l1;
          const wr = r0 + r1;
          if (wl > 0 && wr > 0) {
            const v = (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
            if (v > this.bestProxy) this.record(v, f, prev, b, 1, true);
          }
        }
      }
      if (a === nt) break;
      a0 += hist[b * 2]!;
      a1 += hist[b * 2 + 1]!;
      if (msl > 0) nL += cnt[b]!;
      prev = b;
    }
  }

  /** Any number of classes, gini or entropy. */
  private scanClasses(f: number, N: number, nMiss: number, nt: number): void {
    const C = this.C;
    const hist = this.hist;
    const cnt = this.cnt;
    const touched = this.touched;
    // with min_samples_leaf = 1 every boundary between non-empty bins is valid: no counts kept
    const msl = this.counted ? this.prm.minSamplesLeaf : 0;
    const entropy = this.prm.criterion === 'entropy';
    const acc = this.accL;
    const miss = this.miss;
    const tot = this.tot;
    for (let c = 0; c < C; c++) {
      miss[c] = hist[MISSING_BIN * C + c]!;
      tot[c] = this.nodeTot[c]! - miss[c]!;
      acc[c] = 0;
    }
    let nL = 0;
    let prev = -1;
    for (let a = 0; a <= nt; a++) {
      const b = a < nt ? touched[a]! : MISSING_BIN;
      if (a === nt && (nMiss === 0 || nt === 0)) break;
      if (prev >= 0) {
        for (let side = 0; side < (nMiss > 0 && b !== MISSING_BIN ? 2 : 1); side++) {
          const missLeft = side === 1;
          const nl = nL + (missLeft ? nMiss : 0);
          if (nl < msl || N - nl < msl) continue;
          let wl = 0;
          let wr = 0;
          let sl = 0;
          let sr = 0;
          for (let c = 0; c < C; c++) {
            const l = acc[c]! + (missLeft ? miss[c]! : 0);
            const r = tot[c]! - acc[c]! + (missLeft ? 0 : miss[c]!);
            wl += l;
            wr += r;
            if (entropy) {
              if (l > 0) sl += l * Math.log(l);
              if (r > 0) sr += r * Math.log(r);
            } else {
              sl += l * l;
              sr += r * r;
            }
          }
          if (wl <= 0 || wr <= 0) continue;
          const v = entropy ? sl - wl * Math.log(wl) + sr - wr * Math.log(wr) : sl / wl + sr / wr;
          if (v > this.bestProxy) this.record(v, f, prev, b, missLeft ? 1 : 0, nMiss > 0);
        }
      }
      if (a === nt) break;
      for (let c = 0; c < C; c++) acc[c] += hist[b * C + c]!;
      if (msl > 0) nL += cnt[b]!;
      prev = b;
    }
  }

  /** Squared error: proxy Σ_children (Σwy)² / Σw. */
  private scanRegression(f: number, N: number, nMiss: number, nt: number): void {
    const hist = this.hist;
    const hy = this.histY;
    const cnt = this.cnt;
    const touched = this.touched;
    // with min_samples_leaf = 1 every boundary between non-empty bins is valid: no counts kept
    const msl = this.counted ? this.prm.minSamplesLeaf : 0;
    const mw = hist[MISSING_BIN]!;
    const my = hy[MISSING_BIN]!;
    const tw = this.nodeW - mw;
    const ty = this.nodeTot[0]! - my;
    let aw = 0;
    let ay = 0;
    let nL = 0;
    let prev = -1;
    for (let a = 0; a <= nt; a++) {
      const b = a < nt ? touched[a]! : MISSING_BIN;
      if (a === nt && (nMiss === 0 || nt === 0)) break;
      if (prev >= 0) {
        if (nL >= msl && N - nL >= msl) {
          const wr = tw - aw + mw;
          const yr = ty - ay + my;
          if (aw > 0 && wr > 0) {
            const v = (ay * ay) / aw + (yr * yr) / wr;
            if (v > this.bestProxy) this.record(v, f, prev, b, 0, nMiss > 0);
          }
        }
        if (nMiss > 0 && b !== MISSING_BIN && nL + nMiss >= msl && N - nL - nMiss >= msl) {
          const wl = aw + mw;
          const yl = ay + my;
          const wr = tw - aw;
          const yr = ty - ay;
          if (wl > 0 && wr > 0) {
            const v = (yl * yl) / wl + (yr * yr) / wr;
            if (v > this.bestProxy) this.record(v, f, prev, b, 1, true);
          }
        }
      }
      if (a === nt) break;
      aw += hist[b]!;
      ay += hy[b]!;
      if (msl > 0) nL += cnt[b]!;
      prev = b;
    }
  }

  private record(v: number, f: number, lo: number, hi: number, ml: number, hasMiss: boolean) {
    this.bestProxy = v;
    this.bestF = f;
    this.bestLo = lo;
    this.bestHi = hi;
    this.bestMissLeft = ml;
    this.bestHasMissing = hasMiss;
  }
}
