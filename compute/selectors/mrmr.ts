/**
 * mRMR — minimum redundancy, maximum relevance (Peng, Long & Ding 2005; Ding & Peng 2005), greedy.
 *
 * Variants (`variant`):
 * - `fcq` (default): relevance = F statistic (f_classif for classes, f_regression for a
 *   continuous outcome), redundancy = mean |Pearson r| with the already selected features, score =
 *   relevance / redundancy. Follows the `mrmr_selection` package: only features with relevance > 0
 *   are candidates; each |r| is clipped below at 0.001 (a NaN r, from a constant column, counts as
 *   0.001); a mean redundancy of exactly 1 makes the score 0; the first pick is the most relevant.
 * - `mid` / `miq`: relevance = I(x; y), redundancy = mean I(x; x_s); score = difference (MID) or
 *   quotient (MIQ, redundancy clipped below at 0.001). Estimator: each feature (and a continuous
 *   outcome) is cut into `n_bins` equal-frequency bins, bin(x) = ⌊n_bins · #{x' < x} / n⌋ (ties stay
 *   in one bin), then the plug-in mutual information in nats of the contingency table.
 *
 * Redundancy is incremental: each step computes one new correlation (or MI) column between the
 * last pick and the remaining candidates, so the whole run is O(k · p · n).
 * Ties between equal scores go to the earlier column (as pandas argmax).
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type SelectorDef } from '../core/method';

const FLOOR = 0.001;

const mrmrArgs = {
  variant: {
    type: 'enum',
    values: ['fcq', 'mid', 'miq'],
    default: 'fcq',
    doc: 'fcq: F-statistic / mean |Pearson|; mid: MI difference; miq: MI quotient.',
  },
  n_bins: {
    type: 'integer',
    default: 5,
    min: 2,
    max: 255,
    doc: 'Equal-frequency bins per feature for the MI estimator (mid, miq).',
  },
} satisfies ArgSpecs;

export interface MrmrArgs {
  variant: 'fcq' | 'mid' | 'miq';
  n_bins: number;
}

export function assertComplete(ds: Dataset, method: string): void {
  for (let i = 0; i < ds.data.length; i++) {
    if (Number.isNaN(ds.data[i]!)) {
      const j = Math.floor(i / ds.nSamples);
      throw new Error(
        `${method} needs complete data: feature "${ds.featureNames[j]}" has missing values (impute first)`,
      );
    }
  }
}

/** One-way ANOVA F per feature (sklearn f_classif). */
export function fClassif(ds: Dataset, labels: Int32Array, nClasses: number): Float64Array {
  const n = ds.nSamples;
  const counts = new Float64Array(nClasses);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  let groups = 0;
  for (let g = 0; g < nClasses; g++) if (counts[g]! > 0) groups++;
  const dfb = groups - 1;
  const dfw = n - groups;
  const sums = new Float64Array(nClasses);
  const f = new Float64Array(ds.nFeatures);
  for (let j = 0; j < ds.nFeatures; j++) {
    const off = j * n;
    sums.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = ds.data[off + i]!;
      sums[labels[i]!]! += v;
      total += v;
    }
    const mean = total / n;
    let ssb = 0;
    for (let g = 0; g < nClasses; g++) {
      if (counts[g]! === 0) continue;
      const d = sums[g]! / counts[g]! - mean;
      ssb += counts[g]! * d * d;
    }
    let ssw = 0;
    for (let i = 0; i < n; i++) {
      const g = labels[i]!;
      const d = ds.data[off + i]! - sums[g]! / counts[g]!;
      ssw += d * d;
    }
    f[j] = ssb / dfb / (ssw / dfw);
  }
  return f;
}

/** Centre each column and scale it to unit Euclidean norm (zero column stays zero → r = NaN). */
export function unitColumns(ds: Dataset): { z: Float64Array; constant: Uint8Array } {
  const n = ds.nSamples;
  const z = new Float64Array(ds.data.length);
  const constant = new Uint8Array(ds.nFeatures);
  for (let j = 0; j < ds.nFeatures; j++) {
    const off = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += ds.data[off + i]!;
    const m = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = ds.data[off + i]! - m;
      z[off + i] = d;
      ss += d * d;
    }
    if (ss === 0) {
      constant[j] = 1;
      continue;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < n; i++) z[off + i]! *= inv;
  }
  return { z, constant };
}

/** f_regression: F = r² / (1 − r²) · (n − 2) with a centred Pearson r. */
export function fRegression(z: Float64Array, constant: Uint8Array, y: Float64Array): Float64Array {
  const n = y.length;
  const p = constant.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += y[i]!;
  m /= n;
  const yc = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    yc[i] = y[i]! - m;
    ss += yc[i]! * yc[i]!;
  }
  const inv = 1 / Math.sqrt(ss);
  const f = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (constant[j] || ss === 0) {
      f[j] = NaN;
      continue;
    }
    const off = j * n;
    let r = 0;
    for (let i = 0; i < n; i++) r += z[off + i]! * yc[i]!;
    r *= inv;
    f[j] = ((r * r) / (1 - r * r)) * (n - 2);
  }
  return f;
}

/** Equal-frequency codes: bin(x) = ⌊bins · #{x' < x} / n⌋. */
export function equalFrequencyCodes(
  values: ArrayLike<number>,
  bins: number,
  out: Uint8Array,
): void {
  const n = values.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]!);
  let below = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    if (r > 0 && values[i]! !== values[order[r - 1]!]!) below = r;
    out[i] = Math.floor((bins * below) / n);
  }
}

/** Plug-in mutual information (nats) of two code vectors with `a` and `b` levels. */
export function mutualInformation(
  x: Uint8Array | Int32Array,
  a: number,
  y: Uint8Array | Int32Array,
  b: number,
  table: Float64Array,
): number {
  const n = x.length;
  table.fill(0, 0, a * b);
  for (let i = 0; i < n; i++) table[x[i]! * b + y[i]!]!++;
  const pa = new Float64Array(a);
  const pb = new Float64Array(b);
  for (let u = 0; u < a; u++)
    for (let v = 0; v < b; v++) {
      pa[u]! += table[u * b + v]!;
      pb[v]! += table[u * b + v]!;
    }
  let mi = 0;
  for (let u = 0; u < a; u++)
    for (let v = 0; v < b; v++) {
      const c = table[u * b + v]!;
      if (c > 0) mi += (c / n) * Math.log((c * n) / (pa[u]! * pb[v]!));
    }
  return mi;
}

interface Outcome {
  codes?: Int32Array;
  levels?: number;
  values?: Float64Array;
  labels?: Int32Array;
  nClasses?: number;
}

function outcomeOf(ds: Dataset): Outcome {
  const o = ds.outcome;
  if (o.kind === 'binary') return { labels: o.labels, nClasses: 2 };
  if (o.kind === 'multiclass') return { labels: o.labels, nClasses: o.classes.length };
  if (o.kind === 'continuous') return { values: o.values };
  throw new Error(`mrmr needs a class or continuous outcome, the dataset has ${o.kind}`);
}

export const mrmr: SelectorDef<MrmrArgs> = {
  kind: 'selector',
  code: 'mrmr',
  label: 'mRMR (minimum redundancy, maximum relevance)',
  description:
    'Greedy selection maximising relevance to the outcome against mean redundancy with the ' +
    'features already chosen (FCQ: F-statistic / |Pearson|; MID/MIQ: binned mutual information). ' +
    'Needs k.',
  reference:
    'Peng, Long & Ding (2005) IEEE TPAMI 27:1226; Ding & Peng (2005) J Bioinform Comput Biol 3:185; ' +
    'FCQ as in the mrmr_selection Python package',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: mrmrArgs,
  async run(ds, args, ctx, k) {
    if (k === undefined || !(k > 0)) {
      throw new ArgumentError(
        'k',
        'is required for mrmr (a greedy ranking has no own stopping rule)',
      );
    }
    assertComplete(ds, 'mrmr');
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const y = outcomeOf(ds);
    ctx.progress(0, 'relevance');

    const relevance = new Float64Array(p);
    let z: Float64Array | null = null;
    let constant: Uint8Array | null = null;
    let codes: Uint8Array | null = null;
    const bins = args.n_bins;
    const table = new Float64Array(256 * Math.max(256, y.nClasses ?? 0));
    if (args.variant === 'fcq') {
      ({ z, constant } = unitColumns(ds));
      relevance.set(
        y.labels ? fClassif(ds, y.labels, y.nClasses!) : fRegression(z, constant, y.values!),
      );
    } else {
      codes = new Uint8Array(n * p);
      for (let j = 0; j < p; j++) {
        equalFrequencyCodes(
          ds.data.subarray(j * n, (j + 1) * n),
          bins,
          codes.subarray(j * n, (j + 1) * n),
        );
      }
      let yCodes: Int32Array;
      let yLevels: number;
      if (y.labels) {
        yCodes = y.labels;
        yLevels = y.nClasses!;
      } else {
        const u8 = new Uint8Array(n);
        equalFrequencyCodes(y.values!, bins, u8);
        yCodes = Int32Array.from(u8);
        yLevels = bins;
      }
      for (let j = 0; j < p; j++) {
        relevance[j] = mutualInformation(
          codes.subarray(j * n, (j + 1) * n),
          bins,
          yCodes,
          yLevels,
          table,
        );
      }
    }

    // Candidates: relevance > 0 (NaN relevance never qualifies), in column order.
    const candidate = new Uint8Array(p);
    let nCand = 0;
    for (let j = 0; j < p; j++) {
      if (relevance[j]! > 0) {
        candidate[j] = 1;
        nCand++;
      }
    }
    const K = Math.min(k, nCand);
    const redSum = new Float64Array(p);
    const picks: number[] = [];
    const pickScores: number[] = [];
    const pickRedundancy: number[] = [];
    for (let step = 0; step < K; step++) {
      checkAbort(ctx.signal);
      if (step > 0) {
        const s = picks[step - 1]!;
        if (args.variant === 'fcq') addCorrelationColumn(z!, constant!, n, s, candidate, redSum);
        else addMiColumn(codes!, n, bins, s, candidate, redSum, table);
      }
      let best = -1;
      let bestScore = -Infinity;
      for (let j = 0; j < p; j++) {
        if (!candidate[j]) continue;
        let score: number;
        if (step === 0) score = relevance[j]!;
        else {
          const red = redSum[j]! / step;
          if (args.variant === 'mid') score = relevance[j]! - red;
          else if (args.variant === 'fcq' && red === 1) score = 0;
          else score = relevance[j]! / Math.max(red, FLOOR);
        }
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      picks.push(best);
      pickScores.push(bestScore);
      pickRedundancy.push(step === 0 ? 0 : redSum[best]! / step);
      candidate[best] = 0;
      ctx.progress((step + 1) / K, 'greedy selection');
    }

    const scores: Record<string, number> = {};
    for (let j = 0; j < p; j++) scores[ds.featureNames[j]!] = 0;
    picks.forEach((j, pos) => (scores[ds.featureNames[j]!] = K - pos));
    const rel: Record<string, number> = {};
    for (let j = 0; j < p; j++) rel[ds.featureNames[j]!] = relevance[j]!;
    return {
      selected: picks.map(j => ds.featureNames[j]!),
      scores,
      params: { variant: args.variant, n_bins: args.n_bins, k },
      diagnostics: {
        relevance: rel,
        relevance_measure:
          args.variant === 'fcq'
            ? y.labels
              ? 'f_classif'
              : 'f_regression'
            : 'mutual_information_nats',
        mrmr_score_at_pick: pickScores,
        redundancy_at_pick: pickRedundancy,
        candidates: nCand,
        note: K < k ? `only ${nCand} features have relevance > 0` : undefined,
      },
      backend: 'float64',
    };
  },
};

/** redSum[j] += max(|r(x_j, x_s)|, 0.001) for candidates j (NaN r counts as 0.001). */
function addCorrelationColumn(
  z: Float64Array,
  constant: Uint8Array,
  n: number,
  s: number,
  candidate: Uint8Array,
  redSum: Float64Array,
): void {
  const so = s * n;
  const p = candidate.length;
  const add = (j: number, r: number): void => {
    if (constant[j] || constant[s]) {
      redSum[j]! += FLOOR;
      return;
    }
    // No upper clip: as the reference, only a mean of exactly 1 zeroes the score.
    const a = Math.abs(r);
    redSum[j]! += a < FLOOR ? FLOOR : a;
  };
  // Four candidate columns per pass share each load of the selected column.
  const pending: number[] = [];
  for (let j = 0; j < p; j++) {
    if (!candidate[j]) continue;
    pending.push(j);
    if (pending.length < 4) continue;
    const o0 = pending[0]! * n;
    const o1 = pending[1]! * n;
    const o2 = pending[2]! * n;
    const o3 = pending[3]! * n;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    let r3 = 0;
    for (let i = 0; i < n; i++) {
      const v = z[so + i]!;
      r0 += z[o0 + i]! * v;
      r1 += z[o1 + i]! * v;
      r2 += z[o2 + i]! * v;
      r3 += z[o3 + i]! * v;
    }
    add(pending[0]!, r0);
    add(pending[1]!, r1);
    add(pending[2]!, r2);
    add(pending[3]!, r3);
    pending.length = 0;
  }
  for (const j of pending) {
    const off = j * n;
    let r = 0;
    for (let i = 0; i < n; i++) r += z[off + i]! * z[so + i]!;
    add(j, r);
  }
}

function addMiColumn(
  codes: Uint8Array,
  n: number,
  bins: number,
  s: number,
  candidate: Uint8Array,
  redSum: Float64Array,
  table: Float64Array,
): void {
  const xs = codes.subarray(s * n, (s + 1) * n);
  const p = candidate.length;
  for (let j = 0; j < p; j++) {
    if (!candidate[j]) continue;
    redSum[j]! += mutualInformation(codes.subarray(j * n, (j + 1) * n), bins, xs, bins, table);
  }
}
