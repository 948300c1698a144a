/**
 * Redundancy filter: greedy removal of highly inter-correlated features.
 *
 * Features are visited from most to least relevant; each feature not yet dropped is kept, and every
 * less relevant feature whose |r| with it is ≥ `threshold` is dropped. So of any highly correlated
 * pair the one better related to the outcome survives. Relevance:
 *   continuous outcome   |r| with the outcome (same `method`, Pearson or Spearman)
 *   binary / multiclass  −log10 p of the ANOVA F-test (sklearn f_classif)
 *   none / survival      variance (unsupervised fallback: the more variable feature is kept);
 * `relevance=variance` forces the unsupervised rule. Ties go to the earlier column.
 *
 * r is Pearson, or Spearman (Pearson on average ranks). Complete columns are standardised once, so
 * a correlation is a dot product and a block of candidates against the remaining features is a
 * matrix product: about (#kept) × p × n multiply-adds in all. Engines, same decisions:
 *   float64      register-blocked typed-array loops (p < 1,000, or use_tensors=false);
 *   Gram screens the wasm SIMD float32 panel kernel on a quarter of the samples with a
 *                Cauchy–Schwarz bound for the rest: the whole head Gram at once (≤ 4,096
 *                features), else band by band on all cores;
 *   tensor       (no wasm SIMD) TensorFlow.js matMul in float32 as the same screen, then on all
 *                samples where that bound is too loose;
 *                every pair a screen cannot rule out (proven float32 rounding bound included) is
 *                recomputed in float64 before deciding.
 * A pair involving a column with missing values is computed exactly on the rows both observe
 * (re-ranked for Spearman): correct, but slower. A constant column has r = 0 with everything (numpy
 * gives NaN), so it neither drops nor is dropped. `selected` = kept features in relevance order
 * (the top k of them with k > 0); `scores` = relevance.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorDef } from '../core/method';
import { initTensorBackend, tf } from '../core/tensor';
import { boundScan } from '../kernels/bound-scan';
import { gramBandsF32, gramUpperF32, panelDotErrorFactor } from '../kernels/simd-gemm';
import { columnMoments } from '../stats/columns';
import { rankAverage } from '../stats/ranks';
import { rankOrder } from '../stats/ranking';
import { fOneway, pearson, spearman } from '../stats/univariate';

export interface CorrelationFilterArgs {
  threshold: number;
  method: 'pearson' | 'spearman';
  relevance: 'auto' | 'variance';
  use_tensors: boolean;
}

const args = {
  threshold: {
    type: 'number',
    default: 0.9,
    min: 0,
    max: 1,
    doc: 'Drop a feature when its |r| with a more relevant kept feature is ≥ threshold.',
  },
  method: {
    type: 'enum',
    values: ['pearson', 'spearman'],
    default: 'pearson',
    doc: 'Correlation between features (and with a continuous outcome for relevance).',
  },
  relevance: {
    type: 'enum',
    values: ['auto', 'variance'],
    default: 'auto',
    doc: 'auto: relation to the outcome (variance when there is none); variance: always variance.',
  },
  use_tensors: {
    type: 'boolean',
    default: true,
    doc: 'Screen correlation blocks in float32 (wasm SIMD on all cores, or TensorFlow.js; near-threshold pairs recomputed in float64, same result) from 1,000 features; false: float64 loops only.',
  },
} satisfies ArgSpecs;

/** Candidate rows per block: each block's correlations are one dense (B × remaining) product. */
const BLOCK_F64 = 64;
const BLOCK_TENSOR = 512;
/**
 * Columns per uploaded panel of the transposed matrix (tensor path). A block multiplies only the
 * panels from the one holding its first candidate, so narrow panels waste little work on columns
 * that were already decided; 512 × 1024 products run at full wasm speed (~20 GFLOP/s here, against
 * 13 for 256 × 512).
 */
const PANEL = 1024;
/** The tensor path pays for itself from about this many features. */
const TENSOR_MIN_FEATURES = 1000;

/**
 * Screening engines by size (exported so tests can exercise each): from TENSOR_MIN_FEATURES up
 * to `gramMaxFeatures` features the whole head Gram is computed once on the wasm SIMD panel
 * kernel (`gramSource`; its p² float64 products take 128 MB at 4,096), above that the same kernel
 * computes it band by band on all cores (`bandSource`), and TensorFlow.js screens block by block
 * (`tensorSource`) where wasm SIMD is missing or `bands` is false. gramMaxFeatures 0 turns the
 * whole-Gram screen off.
 */
export const correlationFilterEngines = { gramMaxFeatures: 4096, bands: true, bandBytes: 2 ** 27 };
/** Multiply-adds of the one-call Gram product (~0.1–0.3 s on the bench VM). */
const GRAM_MAX_WORK = 1.2e9;

const yieldToEventLoop = (): Promise<void> => new Promise(resolve => setImmediate(resolve));

/**
 * Correlations of a block of candidate positions [q0, q0 + b) with the positions after them:
 * row c holds r(q0 + c, t) at data[c · stride + t − col0] for t > q0 + c. `margin` > 0 means the
 * values are float32 screens, exact only to ± margin.
 */
interface Block {
  data: Float32Array | Float64Array;
  stride: number;
  col0: number;
  margin: number;
  /** When set, rows with 0 have no complete column within the margin of the threshold. */
  rowHasHits?: Uint8Array;
  /**
   * When set, `data` is unused: row c's complete columns that might reach the threshold are
   * exactly pairs[c] (null: none), each to be computed exactly.
   */
  pairs?: (Int32Array | null)[];
}

interface BlockSource {
  name: string;
  blockSize: number;
  /** Blocks decided from the d-coordinate bound alone / redone on all coordinates (tensor path). */
  blocks?: { coarse: number; full: number; byRowMax: number };
  /**
   * Blocks screened from the head Gram / computed exactly in float64, and Gram bands computed
   * (banded path; Gram path).
   */
  gramBlocks?: { screened: number; exact: number; bands?: number };
  block(q0: number, b: number, dropped: Uint8Array): Block | Promise<Block>;
  dispose(): void;
}

export const correlationFilter: SelectorDef<CorrelationFilterArgs> = {
  kind: 'selector',
  code: 'correlation_filter',
  label: 'Correlation filter',
  description:
    'Greedy redundancy removal: drops a feature whose |r| with a more outcome-relevant kept feature is ≥ threshold.',
  reference:
    'Greedy correlation pruning as caret::findCorrelation (Kuhn 2008), ordered by relevance',
  tasks: ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'],
  device: 'both',
  args,
  async run(ds, a, ctx, k) {
    const p = ds.nFeatures;
    const n = ds.nSamples;
    ctx.progress(0, 'relevance');
    const { relevance, relevanceName } = relevanceScores(ds, a);
    // Work in relevance order: position q holds feature order[q], so "less relevant" = "later".
    const order = rankOrder(relevance);
    ctx.progress(0, 'standardise');
    const { z, complete, nonzero } = standardise(ds, a.method, order);
    const incomplete: number[] = [];
    for (let q = 0; q < p; q++) if (!complete[q]) incomplete.push(q);
    checkAbort(ctx.signal);

    let source: BlockSource = float64Source(z, n, p);
    if (a.use_tensors && p >= TENSOR_MIN_FEATURES) {
      const gram =
        p <= correlationFilterEngines.gramMaxFeatures
          ? gramSource(z, n, p, a.threshold)
          : correlationFilterEngines.bands
            ? bandSource(z, n, p, a.threshold, ctx)
            : null;
      if (gram) source = gram;
      else {
        const backend = await initTensorBackend();
        if (backend !== 'cpu') source = tensorSource(z, n, p, backend, a.threshold, nonzero);
      }
    }
    const exact = (qa: number, qb: number): number =>
      complete[qa] && complete[qb]
        ? dot(z, qa * n, qb * n, n)
        : pairCorrelation(ds, order[qa]!, order[qb]!, a.method);

    const dropped = new Uint8Array(p);
    const droppedBy = new Int32Array(p).fill(-1);
    const droppedR = new Float64Array(p).fill(NaN);
    const kept: number[] = [];
    const thr = a.threshold;
    let verified = 0;
    const drop = (t: number, by: number, r: number): void => {
      dropped[t] = 1;
      droppedBy[t] = by;
      droppedR[t] = r;
    };
    try {
      let q0 = 0;
      while (q0 < p) {
        checkAbort(ctx.signal);
        while (q0 < p && dropped[q0]) q0++;
        if (q0 >= p) break;
        const b = Math.min(source.blockSize, p - q0);
        const { data, stride, col0, margin, rowHasHits, pairs } = await source.block(
          q0,
          b,
          dropped,
        );
        for (let c = 0; c < b; c++) {
          const qc = q0 + c;
          if (dropped[qc]) continue;
          kept.push(qc);
          if (!complete[qc]) {
            for (let t = qc + 1; t < p; t++) {
              if (dropped[t]) continue;
              const r = exact(qc, t);
              if (Math.abs(r) >= thr) drop(t, qc, r);
            }
            continue;
          }
          if (pairs) {
            for (const t of pairs[c] ?? []) {
              if (t <= qc || dropped[t] || !complete[t]) continue;
              const r = exact(qc, t);
              verified++;
              if (Math.abs(r) >= thr) drop(t, qc, r);
            }
            for (const t of incomplete) {
              if (t <= qc || dropped[t]) continue;
              const r = exact(qc, t);
              if (Math.abs(r) >= thr) drop(t, qc, r);
            }
            continue;
          }
          if (rowHasHits && !rowHasHits[c]) {
            // no complete column can reach the threshold: only incomplete ones need a look
            for (const t of incomplete) {
              if (t <= qc || dropped[t]) continue;
              const r = exact(qc, t);
              if (Math.abs(r) >= thr) drop(t, qc, r);
            }
            continue;
          }
          // Below `screen` a pair cannot reach the threshold (exact data: screen = threshold).
          const screen = thr - margin;
          const row = c * stride - col0;
          for (let t = qc + 1; t < p; t++) {
            if (dropped[t]) continue;
            let r = data[row + t]!;
            if (complete[t]) {
              if (!((r < 0 ? -r : r) >= screen)) continue;
              if (margin > 0) {
                r = exact(qc, t);
                verified++;
              }
            } else r = exact(qc, t);
            if (Math.abs(r) >= thr) drop(t, qc, r);
          }
        }
        q0 += b;
        ctx.progress(q0 / p, 'correlation filter');
        if (q0 < p) await yieldToEventLoop();
      }
    } finally {
      source.dispose();
    }
    checkAbort(ctx.signal);

    const names = ds.featureNames;
    const keptIdx = kept.map(q => order[q]!);
    const selectedIdx = k !== undefined && k > 0 ? keptIdx.slice(0, k) : keptIdx;
    const scores: Record<string, number> = {};
    for (let j = 0; j < p; j++) scores[names[j]!] = relevance[j]!;
    const droppedMap: Record<string, { by: string; r: number }> = {};
    for (let q = 0; q < p; q++) {
      if (dropped[q]) {
        droppedMap[names[order[q]!]!] = { by: names[order[droppedBy[q]!]!]!, r: droppedR[q]! };
      }
    }
    ctx.progress(1, 'correlation filter');
    return {
      selected: selectedIdx.map(j => names[j]!),
      scores,
      params: {
        threshold: a.threshold,
        method: a.method,
        relevance: a.relevance,
        use_tensors: a.use_tensors,
      },
      diagnostics: {
        relevance: relevanceName,
        nKept: kept.length,
        dropped: droppedMap,
        ...(source.blocks ? { tensorBlocks: source.blocks, pairsRecomputed: verified } : {}),
        ...(source.gramBlocks ? { gramBlocks: source.gramBlocks, pairsRecomputed: verified } : {}),
      },
      backend: source.name,
    };
  },
};

function relevanceScores(
  ds: Dataset,
  a: CorrelationFilterArgs,
): { relevance: Float64Array; relevanceName: string } {
  const { data, nSamples: n, nFeatures: p, outcome } = ds;
  if (a.relevance === 'auto' && outcome.kind === 'continuous') {
    const t = (a.method === 'spearman' ? spearman : pearson)(data, n, p, outcome.values);
    return { relevance: t.statistic.map(Math.abs), relevanceName: `|${a.method} r| with outcome` };
  }
  if (a.relevance === 'auto' && (outcome.kind === 'binary' || outcome.kind === 'multiclass')) {
    const t = fOneway(data, n, p, outcome.labels, outcome.classes.length);
    return { relevance: t.logP.map(v => -v / Math.LN10), relevanceName: '-log10 p (f_classif)' };
  }
  const m = columnMoments(data, n, p);
  const v = new Float64Array(p);
  for (let j = 0; j < p; j++) v[j] = m.m2[j]! / m.count[j]!;
  return { relevance: v, relevanceName: 'variance' };
}

/**
 * Centred, unit-norm columns (of values or of average ranks) in relevance order — column q is
 * feature order[q] — so r = a dot product. Columns with missing values are flagged incomplete and
 * left zero (their pairs are computed exactly); constant columns stay zero (r = 0: they neither
 * drop nor are dropped, where numpy's corrcoef would give NaN with the same effect).
 */
function standardise(
  ds: Dataset,
  method: 'pearson' | 'spearman',
  order: Int32Array,
): { z: Float64Array; complete: Uint8Array; nonzero: Uint8Array } {
  const { data, nSamples: n, nFeatures: p } = ds;
  const z = new Float64Array(n * p);
  const complete = new Uint8Array(p);
  const nonzero = new Uint8Array(p);
  const scratch = new Float64Array(n);
  const perm = new Int32Array(n);
  for (let q = 0; q < p; q++) {
    const off = order[q]! * n;
    let ok = 1;
    for (let i = 0; i < n; i++) {
      if (data[off + i] !== data[off + i]) {
        ok = 0;
        break;
      }
    }
    complete[q] = ok;
    if (!ok) continue;
    const col = z.subarray(q * n, (q + 1) * n);
    if (method === 'spearman') rankAverage(data.subarray(off, off + n), col, scratch, perm);
    else col.set(data.subarray(off, off + n));
    let s = 0;
    for (let i = 0; i < n; i++) s += col[i]!;
    const mu = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = col[i]! - mu;
      col[i] = d;
      ss += d * d;
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    nonzero[q] = ss > 0 ? 1 : 0;
    for (let i = 0; i < n; i++) col[i] = col[i]! * inv;
  }
  return { z, complete, nonzero };
}

/** Exact float64 correlations from register-blocked dot products (undropped pairs only). */
function float64Source(z: Float64Array, n: number, p: number): BlockSource {
  const data = new Float64Array(BLOCK_F64 * p);
  const cand = new Int32Array(BLOCK_F64);
  const rest = new Int32Array(p);
  const dots = new Float64Array(BLOCK_F64 * p);
  return {
    name: 'float64',
    blockSize: BLOCK_F64,
    block(q0, b, dropped) {
      let nc = 0;
      for (let c = 0; c < b; c++) if (!dropped[q0 + c]) cand[nc++] = q0 + c;
      let m = 0;
      for (let t = q0 + 1; t < p; t++) if (!dropped[t]) rest[m++] = t;
      blockDots(z, n, cand, nc, rest, m, dots);
      const stride = p - q0;
      for (let c = 0; c < nc; c++) {
        const row = (cand[c]! - q0) * stride - q0;
        for (let t = 0; t < m; t++) data[row + rest[t]!] = dots[c * m + t]!;
      }
      return { data, stride, col0: q0, margin: 0 };
    },
    dispose() {},
  };
}

/**
 * Whole-Gram screen on the wasm SIMD float32 panel kernel (compute/kernels/simd-gemm.ts), exact
 * decisions in float64; for 1,000–4,096 features.
 *
 * The bound is tensorSource's stage 1: with h the first d = ⌈n/4⌉ coordinates (all n below 32)
 * and ρ the norm of the others, |r − ⟨h_i, h_j⟩| ≤ ρ_i ρ_j (Cauchy–Schwarz), so only pairs with
 * |⟨h_i, h_j⟩| + ρ_i ρ_j ≥ threshold − ε can reach the threshold; ε covers the kernel's rounding
 * (panelDotErrorFactor(d), the head norms being ≤ 1) and that of the float64 dot that decides.
 * Every passing pair is recomputed with that dot (the float64 path's value, to the bit), so kept
 * and dropped equal the float64 path's. At 200 × 2,000 noise 96 of the 2 M pairs pass.
 *
 * Why not tensorSource at this size: with a 50-wide head the products are too small for XNNPACK
 * to run efficiently, and its per-block masks, counts and read-backs cost more than the products
 * (the whole filter took ~1.8× numpy's BLAS greedy). Here the upper triangle of the p × p head
 * Gram (p²·d/2 multiply-adds, ~0.1 G at 200 × 2,000) is computed once and scanned in place.
 * A block whose rows have more candidate pairs than a sixteenth of the block's pairs (strongly
 * correlated data) is computed exactly with the float64 register-blocked products instead.
 * Null when the kernel is unavailable, the Gram does not fit in memory, or its product (one
 * synchronous call) would exceed GRAM_MAX_WORK multiply-adds.
 */
function gramSource(z: Float64Array, n: number, p: number, threshold: number): BlockSource | null {
  const h = headAndTail(z, n, p);
  // The product runs in one synchronous call (no abort check inside): larger ones go band by band.
  if ((p * p * h.d) / 2 > GRAM_MAX_WORK) return null;
  // reserved after the Gram: τ (p float64) and one row's candidate list (p int32)
  const gram = gramUpperF32(h.head, p, h.d, p * 12);
  if (!gram) return null;
  const scanRows = rowScanner(gram, h, threshold, p);
  const exact = float64Source(z, n, p);
  const gramBlocks = { screened: 0, exact: 0 };
  return {
    name: 'wasm-simd+float64',
    blockSize: BLOCK_F64,
    gramBlocks,
    block(q0, b, dropped) {
      const block = scanRows(q0, b, dropped, qc => qc * gram.ld);
      if (block) gramBlocks.screened++;
      else gramBlocks.exact++;
      return block ?? exact.block(q0, b, dropped);
    },
    dispose() {
      gram.release();
    },
  };
}

/** The first d = ⌈n/4⌉ coordinates (all n below 32) of every position, column-major (p × d) as the
 * panel kernel takes them, and the norms ρ of the other coordinates. */
function headAndTail(
  z: Float64Array,
  n: number,
  p: number,
): { d: number; head: Float64Array; tail: Float64Array; tailMax: number } {
  const d = n >= 32 ? Math.ceil(n / 4) : n;
  const head = new Float64Array(p * d);
  const tail = new Float64Array(p);
  let tailMax = 0;
  for (let q = 0; q < p; q++) {
    const off = q * n;
    for (let i = 0; i < d; i++) head[i * p + q] = z[off + i]!;
    let ss = 0;
    for (let i = d; i < n; i++) ss += z[off + i]! * z[off + i]!;
    tail[q] = Math.sqrt(ss);
    if (tail[q]! > tailMax) tailMax = tail[q]!;
  }
  return { d, head, tail, tailMax };
}

/**
 * The bound scan of gramSource / bandSource over a head Gram in WebAssembly memory with p · 12
 * bytes reserved after it (τ, then one row's candidate list): for the undropped rows of a block,
 * the columns t > qc that pass |⟨h_qc, h_t⟩| + ρ_qc ρ_t ≥ threshold − ε, or null when they are
 * more than a sixteenth of the block's pairs (the block is then computed exactly). `rowAt(qc)`:
 * the float64 index of row qc's column 0 in `c`.
 */
function rowScanner(
  gram: { c: Float64Array; cBase: number; extraBase: number; memory: object },
  h: { d: number; tail: Float64Array; tailMax: number },
  threshold: number,
  p: number,
): (q0: number, b: number, dropped: Uint8Array, rowAt: (qc: number) => number) => Block | null {
  const { c } = gram;
  const { tail, tailMax } = h;
  const tauBase = gram.extraBase;
  const listBase = tauBase + p * 8;
  const scan = boundScan(gram.memory);
  if (scan) new Float64Array(c.buffer, tauBase, p).set(tail);
  const list = new Int32Array(c.buffer, listBase, p);
  // kernel rounding (head norms ≤ 1), the float64 dot's own error (≤ γ_n) and ρ's rounding
  const lim = threshold - panelDotErrorFactor(h.d) - 1e-9;
  const pairs: (Int32Array | null)[] = new Array<Int32Array | null>(BLOCK_F64).fill(null);
  const empty = new Float64Array(0);
  return (q0, b, dropped, rowAt) => {
    const budget = (b * (p - q0)) / 16;
    let total = 0;
    for (let r = 0; r < b; r++) {
      pairs[r] = null;
      const qc = q0 + r;
      if (dropped[qc]) continue;
      const rc = tail[qc]!;
      // |v| below this cannot pass with any partner (the largest tail norm)
      const quick = lim - rc * tailMax;
      const row = rowAt(qc);
      let m = 0;
      if (scan) m = scan(gram.cBase + row * 8, tauBase, qc + 1, p, rc, quick, lim, listBase);
      else {
        for (let t = qc + 1; t < p; t++) {
          const v = c[row + t]!;
          const av = v < 0 ? -v : v;
          if (av >= quick && av + rc * tail[t]! >= lim) list[m++] = t;
        }
      }
      if (m > 0) pairs[r] = list.slice(0, m);
      total += m;
      if (total > budget) return null;
    }
    return { data: empty, stride: 0, col0: q0, margin: 1, pairs };
  };
}

/**
 * Rows per Gram band of bandSource: up to 512, fewer when a band (rows × p float64) would pass
 * `correlationFilterEngines.bandBytes` (80 MB at p = 20,000; 64 + 16 rows, enough for a block and
 * its panel alignment, at any p: 288 MB at 450,000 CpGs).
 */
function bandRows(p: number): number {
  const fit = Math.floor(correlationFilterEngines.bandBytes / (p * 8) / 8) * 8;
  return Math.max(BLOCK_F64 + 16, Math.min(512, fit));
}

/**
 * gramSource for more features than one Gram can hold: the same head bound, kernel and scan, with
 * the head Gram computed bandRows(p) rows at a time (rows r0 … against the columns from their own
 * panel on, on worker threads: compute/kernels/simd-gemm.ts gramBandsF32) and scanned block by
 * block before the next band replaces it. p²·d/2 multiply-adds in all, as the whole Gram; at
 * 500 × 20,000 that is 2.5e10 on two cores, where tensorSource ran its stage-1 products on the
 * single-threaded TensorFlow.js wasm backend at ~6 G multiply-adds/s (7.1 → 3.0 s for the filter).
 */
function bandSource(
  z: Float64Array,
  n: number,
  p: number,
  threshold: number,
  ctx: RunContext,
): BlockSource | null {
  const h = headAndTail(z, n, p);
  const gram = gramBandsF32(h.head, p, h.d, bandRows(p), p * 12);
  if (!gram) return null;
  const scanRows = rowScanner(gram, h, threshold, p);
  const exact = float64Source(z, n, p);
  const gramBlocks = { screened: 0, exact: 0, bands: 0 };
  // the band in c: rows [bandLo, bandHi)
  let bandLo = 0;
  let bandHi = 0;
  return {
    name: 'wasm-simd+float64',
    blockSize: BLOCK_F64,
    gramBlocks,
    async block(q0, b, dropped) {
      if (q0 < bandLo || q0 + b > bandHi) {
        bandLo = q0 - (q0 % 8);
        bandHi = Math.min(p, bandLo + gram.maxRows);
        await gram.band(bandLo, bandHi - bandLo, { threads: ctx.threads, signal: ctx.signal });
        gramBlocks.bands++;
      }
      const block = scanRows(q0, b, dropped, qc => (qc - bandLo) * gram.ld);
      if (block) gramBlocks.screened++;
      else gramBlocks.exact++;
      return block ?? exact.block(q0, b, dropped);
    },
    dispose() {
      gram.release();
    },
  };
}

/**
 * float32 screening on TensorFlow.js (wasm / native), exact decisions in float64.
 *
 * Rounding: a float32 dot of unit vectors over m ≤ n terms is within γ_{n+2} = (n + 2)u/(1 − (n + 2)u)
 * of the exact value (u = 2⁻²⁴); `margin` is twice that, and nothing below threshold − margin is
 * ever dropped without a float64 recomputation, so kept/dropped equal the float64 path's.
 *
 * Stage 1 (n ≥ 32) uses only the first d = ⌈n/4⌉ coordinates: with h the head and ρ the norm of the
 * remaining coordinates, Cauchy–Schwarz gives |r − ⟨h_i, h_j⟩| ≤ ρ_i ρ_j, so a pair can reach the
 * threshold only if |⟨h_i, h_j⟩| + ρ_i ρ_j ≥ threshold − margin. For unstructured data ρ² ≈ 3/4
 * and almost no pair passes, at a quarter of the multiply-adds; the passing pairs are computed
 * exactly in float64. When a block has too many passing pairs (strongly correlated data) it is
 * redone on all n coordinates (stage 2) and screened by the margin alone.
 *
 * Matrices are uploaded once, as rows (p × d or p × n) and as explicitly transposed column panels
 * (matMul with transposeB runs ~8× slower on wasm); products never leave the backend except the
 * per-row counts and the rows that have a candidate pair.
 */
function tensorSource(
  z: Float64Array,
  n: number,
  p: number,
  backend: string,
  threshold: number,
  nonzero: Uint8Array,
): BlockSource {
  const u = 2 ** -24;
  const margin = (2 * (n + 2) * u) / (1 - (n + 2) * u);
  const screen = threshold - margin;
  const d = n >= 32 ? Math.ceil(n / 4) : n;
  /** Upload columns [0, dims) of every position as rows and as transposed panels. */
  const upload = (dims: number) => {
    const rows = new Float32Array(p * dims);
    for (let q = 0; q < p; q++) {
      for (let i = 0; i < dims; i++) rows[q * dims + i] = z[q * n + i]!;
    }
    const panels: tf.Tensor2D[] = [];
    for (let k0 = 0; k0 < p; k0 += PANEL) {
      const w = Math.min(PANEL, p - k0);
      const t = new Float32Array(dims * w);
      for (let c = 0; c < w; c++) {
        const off = (k0 + c) * n;
        for (let i = 0; i < dims; i++) t[i * w + c] = z[off + i]!;
      }
      panels.push(tf.tensor2d(t, [dims, w]));
    }
    return { rows: tf.tensor2d(rows, [p, dims]), panels };
  };
  let full: { rows: tf.Tensor2D; panels: tf.Tensor2D[] } | null = null;
  const head = d < n ? upload(d) : null;
  const tail = new Float32Array(p);
  if (head) {
    for (let q = 0; q < p; q++) {
      let ss = 0;
      for (let i = d; i < n; i++) ss += z[q * n + i]! * z[q * n + i]!;
      tail[q] = Math.sqrt(ss);
    }
  }
  const tailT = head ? tf.tensor1d(tail) : null;
  const panelTailMax = new Float64Array(Math.ceil(p / PANEL));
  for (let q = 0; q < p; q++) {
    const k = Math.floor(q / PANEL);
    if (tail[q]! > panelTailMax[k]!) panelTailMax[k] = tail[q]!;
  }
  const out = new Float32Array(BLOCK_TENSOR * p);
  const rowHasHits = new Uint8Array(BLOCK_TENSOR);
  const selfHit = (q: number) => (nonzero[q]! && 1 >= screen ? 1 : 0);

  /** Stage 2 (or the only stage for small n): all coordinates, margin screen. */
  const fullBlock = (q0: number, b: number): Block => {
    full ??= upload(n);
    const f = full;
    const first = Math.floor(q0 / PANEL);
    const col0 = first * PANEL;
    const stride = p - col0;
    const parts = tf.tidy(() => {
      const a = tf.slice(f.rows, [q0, 0], [b, n]);
      return f.panels.slice(first).map(panel => tf.matMul(a, panel));
    });
    const hits = tf.tidy(() =>
      tf.addN(parts.map(c => tf.sum(tf.cast(tf.greaterEqual(tf.abs(c), screen), 'int32'), 1))),
    );
    try {
      const counts = hits.dataSync();
      const read: number[] = [];
      for (let c = 0; c < b; c++) {
        rowHasHits[c] = counts[c]! - selfHit(q0 + c) > 0 ? 1 : 0;
        if (rowHasHits[c]) read.push(c);
      }
      if (read.length > 0) {
        parts.forEach((part, k) => {
          const w = part.shape[1]!;
          const dst = (first + k) * PANEL - col0;
          const picked = tf.tidy(() => tf.gather(part, read));
          try {
            const vals = picked.dataSync() as Float32Array;
            read.forEach((c, r) => out.set(vals.subarray(r * w, (r + 1) * w), c * stride + dst));
          } finally {
            picked.dispose();
          }
        });
      }
    } finally {
      for (const part of parts) part.dispose();
      hits.dispose();
    }
    return { data: out, stride, col0, margin, rowHasHits };
  };

  const blocks = { coarse: 0, full: 0, byRowMax: 0 };

  /** Rows of the last coarse block with at least one candidate pair. */
  let rowsHit = 0;
  let useMax = false;
  let maxTried = false;

  /** Stage 1, counting passes of the exact bound |⟨h_c, h_t⟩| + ρ_c ρ_t ≥ screen on the backend. */
  const coarseCount = (
    head: { rows: tf.Tensor2D; panels: tf.Tensor2D[] },
    tailT: tf.Tensor1D,
    q0: number,
    b: number,
  ): Block => {
    const first = Math.floor(q0 / PANEL);
    const col0 = first * PANEL;
    const stride = p - col0;
    // pass[c, t] = |⟨h_c, h_t⟩| + ρ_c ρ_t ≥ screen, per panel, kept on the backend
    const masks = tf.tidy(() => {
      const a = tf.slice(head.rows, [q0, 0], [b, d]);
      const rhoA = tf.reshape(tf.slice(tailT!, [q0], [b]), [b, 1]);
      return head.panels.slice(first).map((panel, k) => {
        const k0 = (first + k) * PANEL;
        const w = panel.shape[1]!;
        const rhoT = tf.reshape(tf.slice(tailT!, [k0], [w]), [1, w]);
        const bound = tf.add(tf.abs(tf.matMul(a, panel)), tf.mul(rhoA, rhoT));
        return tf.cast(tf.greaterEqual(bound, screen), 'int32') as tf.Tensor2D;
      });
    });
    let fallback = false;
    const pairs: (Int32Array | null)[] = new Array<Int32Array | null>(b).fill(null);
    try {
      const countsT = tf.tidy(() => tf.addN(masks.map(m => tf.sum(m, 1))));
      const counts = countsT.dataSync();
      countsT.dispose();
      const read: number[] = [];
      let total = 0;
      for (let c = 0; c < b; c++) {
        const extra = counts[c]! - selfHit(q0 + c);
        if (extra > 0) {
          read.push(c);
          total += extra;
        }
      }
      rowsHit = read.length;
      // Too many candidates to check one by one: cheaper to redo the block on all coordinates.
      if (total > (b * stride) / 16) fallback = true;
      else if (read.length > 0) {
        const lists: number[][] = read.map(() => []);
        masks.forEach((m, k) => {
          const w = m.shape[1]!;
          const k0 = (first + k) * PANEL;
          const picked = tf.tidy(() => tf.gather(m, read));
          try {
            const vals = picked.dataSync();
            lists.forEach((list, r) => {
              for (let t = 0; t < w; t++) if (vals[r * w + t]) list.push(k0 + t);
            });
          } finally {
            picked.dispose();
          }
        });
        read.forEach((c, r) => (pairs[c] = Int32Array.from(lists[r]!)));
      }
    } finally {
      for (const m of masks) m.dispose();
    }
    if (fallback) {
      blocks.full++;
      return fullBlock(q0, b);
    }
    blocks.coarse++;
    return { data: out, stride, col0, margin, pairs };
  };

  /** Stage 1 by row maxima of the threshold-scaled head products (see below). */
  const coarseMax = (
    head: { rows: tf.Tensor2D; panels: tf.Tensor2D[] },
    q0: number,
    b: number,
  ): Block => {
    const first = Math.floor(q0 / PANEL);
    const col0 = first * PANEL;
    const stride = p - col0;
    const last = q0 + b;
    // Row thresholds per panel: a pair can pass only if |⟨h_c, h_t⟩| ≥ screen − ρ_c·ρ_t, which
    // is ≥ thr = screen − ρ_c·max_panel ρ. Scaling row c of the head by 1/thr turns "some pair
    // of row c in this panel might pass" into "max_t |x'_ct| ≥ 1": one matMul and one
    // abs-max reduction per panel instead of bound, compare, cast and count passes over the
    // product (measured ~40 % of a panel's time). Only the rows whose max passes are read back
    // and screened pair by pair with the exact bound in JavaScript. Panels overlapping the
    // block's own columns (self-pairs, earlier columns) are read back whole.
    const nPanels = head.panels.length - first;
    const invThr = new Float32Array(nPanels * b);
    const thrOf = new Float64Array(nPanels * b);
    for (let kk = 0; kk < nPanels; kk++) {
      const rmax = panelTailMax[first + kk]!;
      for (let c = 0; c < b; c++) {
        const thr = screen - tail[q0 + c]! * rmax;
        // A row whose panel threshold is this loose (a large tail norm) is read back whole,
        // unscaled (thr 1, never decided by the max): marked by a negative thrOf.
        const forced = !(thr > 0.02);
        thrOf[kk * b + c] = forced ? -1 : thr;
        invThr[kk * b + c] = forced ? 1 : 1 / thr;
      }
    }
    const parts: tf.Tensor2D[] = [];
    let maxT: tf.Tensor | null = null;
    try {
      tf.tidy(() => {
        const a = tf.slice(head.rows, [q0, 0], [b, d]);
        const inv = tf.tensor2d(invThr, [nPanels, b]);
        const maxes: tf.Tensor1D[] = [];
        head.panels.slice(first).forEach((panel, kk) => {
          const scale = tf.reshape(tf.slice(inv, [kk, 0], [1, b]), [b, 1]);
          const part = tf.keep(tf.matMul(tf.mul(a, scale), panel)) as tf.Tensor2D;
          parts.push(part);
          if ((first + kk) * PANEL >= last) maxes.push(tf.max(tf.abs(part), 1));
        });
        if (maxes.length > 0) maxT = tf.keep(tf.stack(maxes));
      });
      const firstFar = parts.findIndex((_, kk) => (first + kk) * PANEL >= last);
      const maxVals = maxT ? ((maxT as tf.Tensor).dataSync() as Float32Array) : null;
      const lists: number[][] = Array.from({ length: b }, () => []);
      const hit = new Uint8Array(b);
      let total = 0;
      const budget = (b * stride) / 16;
      for (let kk = 0; kk < nPanels && total <= budget; kk++) {
        const k0 = (first + kk) * PANEL;
        const part = parts[kk]!;
        const w = part.shape[1]!;
        const far = kk >= firstFar && firstFar >= 0;
        const rows: number[] = [];
        for (let c = 0; c < b; c++) {
          if (!far || thrOf[kk * b + c]! < 0 || maxVals![(kk - firstFar) * b + c]! >= 1 - 1e-5) {
            rows.push(c);
          }
        }
        if (rows.length === 0) continue;
        if (far) for (const c of rows) hit[c] = 1;
        const whole = rows.length === b;
        const picked = whole ? part : tf.gather(part, rows);
        let vals: Float32Array;
        try {
          vals = picked.dataSync() as Float32Array;
        } finally {
          if (!whole) picked.dispose();
        }
        const lim = screen - 1e-6;
        rows.forEach((c, r) => {
          const qc = q0 + c;
          const rc = tail[qc]!;
          const thr = Math.abs(thrOf[kk * b + c]!);
          const list = lists[c]!;
          for (let i = Math.max(0, qc + 1 - k0); i < w; i++) {
            const v = vals[r * w + i]!;
            const t = k0 + i;
            if ((v < 0 ? -v : v) * thr + rc * tail[t]! >= lim) {
              list.push(t);
              total++;
            }
          }
        });
      }
      // Too many candidates to check one by one: cheaper to redo the block on all coordinates.
      if (total > budget) {
        rowsHit = b;
        blocks.full++;
        return fullBlock(q0, b);
      }
      const pairs: (Int32Array | null)[] = lists.map(l => (l.length ? Int32Array.from(l) : null));
      rowsHit = hit.reduce((x, v) => x + v, 0);
      blocks.coarse++;
      blocks.byRowMax++;
      return { data: out, stride, col0, margin, pairs };
    } finally {
      for (const part of parts) part.dispose();
      (maxT as tf.Tensor | null)?.dispose();
    }
  };
  return {
    name: `${backend}+float64`,
    blockSize: BLOCK_TENSOR,
    blocks,
    block(q0, b) {
      if (!head || !tailT) {
        blocks.full++;
        return fullBlock(q0, b);
      }
      const r = useMax ? coarseMax(head, q0, b) : coarseCount(head, tailT, q0, b);
      // The row-max screen pays off while few rows have a candidate (unstructured data, larger
      // n: ~8 % of rows at 500 × 20,000); when many do (small n: loose tail bounds, ~all rows at
      // 200 × 2,000), reading them back costs more than counting exact-bound passes on the
      // backend. So: count first; once a counted block has candidates in < 2 % of its rows, try
      // the row-max screen, and go back to counting for good if ≥ 25 % of rows pass it.
      if (useMax && rowsHit >= 0.25 * b) useMax = false;
      else if (!useMax && !maxTried && rowsHit < 0.02 * b) useMax = maxTried = true;
      return r;
    },
    dispose() {
      tailT?.dispose();
      for (const set of [head, full]) {
        if (!set) continue;
        set.rows.dispose();
        for (const panel of set.panels) panel.dispose();
      }
    },
  };
}

/**
 * dots[c·m + t] = ⟨z_cand[c], z_rest[t]⟩ with a 4 × 2 register block: six loads feed eight
 * multiply-adds, about three times the throughput of one dot product at a time.
 */
function blockDots(
  z: Float64Array,
  n: number,
  cand: Int32Array,
  nc: number,
  rest: Int32Array,
  m: number,
  dots: Float64Array,
): void {
  let c = 0;
  for (; c + 4 <= nc; c += 4) {
    const a0 = cand[c]! * n;
    const a1 = cand[c + 1]! * n;
    const a2 = cand[c + 2]! * n;
    const a3 = cand[c + 3]! * n;
    let t = 0;
    for (; t + 2 <= m; t += 2) {
      const b0 = rest[t]! * n;
      const b1 = rest[t + 1]! * n;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let i = 0; i < n; i++) {
        const x0 = z[b0 + i]!;
        const x1 = z[b1 + i]!;
        const y0 = z[a0 + i]!;
        const y1 = z[a1 + i]!;
        const y2 = z[a2 + i]!;
        const y3 = z[a3 + i]!;
        s00 += y0 * x0;
        s01 += y0 * x1;
        s10 += y1 * x0;
        s11 += y1 * x1;
        s20 += y2 * x0;
        s21 += y2 * x1;
        s30 += y3 * x0;
        s31 += y3 * x1;
      }
      dots[c * m + t] = s00;
      dots[c * m + t + 1] = s01;
      dots[(c + 1) * m + t] = s10;
      dots[(c + 1) * m + t + 1] = s11;
      dots[(c + 2) * m + t] = s20;
      dots[(c + 2) * m + t + 1] = s21;
      dots[(c + 3) * m + t] = s30;
      dots[(c + 3) * m + t + 1] = s31;
    }
    for (; t < m; t++) {
      for (let u = 0; u < 4; u++) dots[(c + u) * m + t] = dot(z, cand[c + u]! * n, rest[t]! * n, n);
    }
  }
  for (; c < nc; c++) {
    const a0 = cand[c]! * n;
    for (let t = 0; t < m; t++) dots[c * m + t] = dot(z, a0, rest[t]! * n, n);
  }
}

function dot(z: Float64Array, a: number, b: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += z[a + i]! * z[b + i]!;
  return s;
}

/** Exact correlation of columns i and j on the rows both observe (missing-value path). */
function pairCorrelation(
  ds: Dataset,
  i: number,
  j: number,
  method: 'pearson' | 'spearman',
): number {
  const n = ds.nSamples;
  const x: number[] = [];
  const y: number[] = [];
  for (let s = 0; s < n; s++) {
    const u = ds.data[i * n + s]!;
    const v = ds.data[j * n + s]!;
    if (u === u && v === v) {
      x.push(u);
      y.push(v);
    }
  }
  const m = x.length;
  if (m < 2) return NaN;
  let xv = Float64Array.from(x);
  let yv = Float64Array.from(y);
  if (method === 'spearman') {
    const rx = new Float64Array(m);
    const ry = new Float64Array(m);
    rankAverage(xv, rx);
    rankAverage(yv, ry);
    xv = rx;
    yv = ry;
  }
  return pearson(xv, m, 1, yv).statistic[0]!;
}
