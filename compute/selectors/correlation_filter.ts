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
 * matrix product: about (#kept) × p × n multiply-adds in all. Two engines, same decisions:
 *   float64      register-blocked typed-array loops (p < 1,000, or use_tensors=false);
 *   tensor       TensorFlow.js matMul in float32 (wasm / native TensorFlow, ~6× the loops'
 *                throughput) as a screen; every pair whose float32 |r| is within the proven
 *                rounding bound of the threshold is recomputed in float64 before deciding.
 * A pair involving a column with missing values is computed exactly on the rows both observe
 * (re-ranked for Spearman): correct, but slower. A constant column has r = 0 with everything (numpy
 * gives NaN), so it neither drops nor is dropped. `selected` = kept features in relevance order
 * (the top k of them with k > 0); `scores` = relevance.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type SelectorDef } from '../core/method';
import { initTensorBackend, tf } from '../core/tensor';
import { columnMoments } from '../stats/columns';
import { rankAverage } from '../stats/ranks';
import { rankOrder } from '../stats/sort';
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
    doc: 'Screen correlation blocks on TensorFlow.js (float32; near-threshold pairs recomputed in float64, same result) from 1,000 features; false: float64 loops only.',
  },
} satisfies ArgSpecs;

/** Candidate rows per block: each block's correlations are one dense (B × remaining) product. */
const BLOCK_F64 = 64;
const BLOCK_TENSOR = 256;
/**
 * Columns per uploaded panel of the transposed matrix (tensor path). A block multiplies only the
 * panels from the one holding its first candidate, so narrow panels waste little work on columns
 * that were already decided; 512 keeps each matMul large enough to run at full speed.
 */
const PANEL = 512;
/** The tensor path pays for itself from about this many features. */
const TENSOR_MIN_FEATURES = 1000;

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
}

interface BlockSource {
  name: string;
  blockSize: number;
  block(q0: number, b: number, dropped: Uint8Array): Block;
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
    const { z, complete } = standardise(ds, a.method, order);
    checkAbort(ctx.signal);

    let source: BlockSource = float64Source(z, n, p);
    if (a.use_tensors && p >= TENSOR_MIN_FEATURES) {
      const backend = await initTensorBackend();
      if (backend !== 'cpu') source = tensorSource(z, n, p, backend);
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
        const { data, stride, col0, margin } = source.block(q0, b, dropped);
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
        ...(source.name === 'float64' ? {} : { screenedPairsRecomputed: verified }),
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
): { z: Float64Array; complete: Uint8Array } {
  const { data, nSamples: n, nFeatures: p } = ds;
  const z = new Float64Array(n * p);
  const complete = new Uint8Array(p);
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
    for (let i = 0; i < n; i++) col[i] = col[i]! * inv;
  }
  return { z, complete };
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
 * float32 screening on TensorFlow.js (wasm / native): the standardised matrix is uploaded once,
 * as rows (p × n) and as transposed column panels (n × PANEL, explicitly transposed because
 * matMul with transposeB runs ~8× slower on wasm), and each block is one matMul per panel.
 * Rounding bound for a float32 dot of unit vectors: |r32 − r| ≤ γ_{n+2} = (n + 2)u/(1 − (n + 2)u)
 * with u = 2⁻²⁴; the margin is twice that, and every pair within the margin of the threshold is
 * recomputed in float64, so the kept/dropped decisions equal the float64 path's.
 */
function tensorSource(z: Float64Array, n: number, p: number, backend: string): BlockSource {
  const u = 2 ** -24;
  const margin = (2 * (n + 2) * u) / (1 - (n + 2) * u);
  const rows = tf.tensor2d(Float32Array.from(z), [p, n]);
  const panels: tf.Tensor2D[] = [];
  for (let k0 = 0; k0 < p; k0 += PANEL) {
    const w = Math.min(PANEL, p - k0);
    const t = new Float32Array(n * w);
    for (let c = 0; c < w; c++) {
      const off = (k0 + c) * n;
      for (let i = 0; i < n; i++) t[i * w + c] = z[off + i]!;
    }
    panels.push(tf.tensor2d(t, [n, w]));
  }
  const out = new Float32Array(BLOCK_TENSOR * p);
  return {
    name: `${backend}+float64`,
    blockSize: BLOCK_TENSOR,
    block(q0, b) {
      const first = Math.floor(q0 / PANEL);
      const col0 = first * PANEL;
      const stride = p - col0;
      const products = tf.tidy(() => {
        const a = tf.slice(rows, [q0, 0], [b, n]);
        return panels.slice(first).map(panel => tf.matMul(a, panel));
      });
      try {
        products.forEach((prod, i) => {
          const vals = prod.dataSync() as Float32Array;
          const w = prod.shape[1]!;
          const dst = (first + i) * PANEL - col0;
          for (let c = 0; c < b; c++) out.set(vals.subarray(c * w, (c + 1) * w), c * stride + dst);
        });
      } finally {
        for (const prod of products) prod.dispose();
      }
      return { data: out, stride, col0, margin };
    },
    dispose() {
      rows.dispose();
      for (const panel of panels) panel.dispose();
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
