/**
 * Fold change between the positive and the negative class (binary outcome).
 *
 * Linear-scale data (default): log2FC = log2((mean_pos + pseudocount) / (mean_neg + pseudocount)),
 * the log of the ratio of group means (not the mean of logs). A ratio of non-positive means is
 * undefined: such features get log2FC = NaN, score NaN (ranked last, never selected) and are listed
 * in diagnostics.undefinedRatio; raise `pseudocount` or set `log_input` for centred or log data.
 *
 * Log-scale data (`log_input=true`, e.g. log2 expression): log2FC = mean_pos − mean_neg.
 *
 * Score = |log2FC|; without k, keep |log2FC| ≥ threshold (default 1 = two-fold). Missing values
 * are skipped per feature.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import { groupMeans } from '../stats/columns';
import { recordOf, withLazy } from '../stats/lazy';
import { selectTop } from '../stats/selection';
import { shiftedSums } from '../stats/simd_sums';

export interface FoldChangeArgs {
  threshold: number;
  log_input: boolean;
  pseudocount: number;
}

const args = {
  threshold: {
    type: 'number',
    default: 1,
    min: 0,
    doc: 'Without k, keep features with |log2 fold change| ≥ threshold (1 = two-fold).',
  },
  log_input: {
    type: 'boolean',
    default: false,
    doc: 'Data are already log2-scale: the fold change is the difference of group means.',
  },
  pseudocount: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'Added to both group means before the ratio (linear-scale data only).',
  },
} satisfies ArgSpecs;

/**
 * Class means, interleaved (mean[2j] negative class, mean[2j + 1] positive class): the same bits
 * as stats/columns.ts groupMeans (its two-group wasm path, c + Σ_g d / n_g around the column's
 * first value c; a column with a missing value redone skipping them), but taking c from the
 * kernel's output instead of re-reading the first value of every column (a cache miss each,
 * ~12 % of a 200 × 2,000 call). Falls back to groupMeans without wasm SIMD or an empty class.
 */
export function classMeans(
  data: Float64Array,
  n: number,
  p: number,
  labels: Int32Array,
): Float64Array {
  const w = new Float64Array(n);
  const a = new Float64Array(n);
  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l !== 0 && l !== 1) return groupMeans(data, n, p, labels, 2).mean;
    w[i] = l;
    a[i] = 1 - l;
    n1 += l;
  }
  const n0 = n - n1;
  const sums = new Float64Array(3 * p);
  if (n0 === 0 || n1 === 0 || !shiftedSums(data, n, 0, p, a, w, sums, false)) {
    return groupMeans(data, n, p, labels, 2).mean;
  }
  const mean = new Float64Array(2 * p);
  for (let j = 0; j < p; j++) {
    const d0 = sums[3 * j]!;
    const d1 = sums[3 * j + 1]!;
    if (d0 !== d0 || d1 !== d1) {
      // missing values: the means of the observed ones, summed in sample order
      let s0 = 0;
      let s1 = 0;
      let c0 = 0;
      let c1 = 0;
      for (let i = 0, off = j * n; i < n; i++) {
        const v = data[off + i]!;
        if (v !== v) continue;
        if (w[i] === 1) {
          s1 += v;
          c1++;
        } else {
          s0 += v;
          c0++;
        }
      }
      mean[2 * j] = c0 > 0 ? s0 / c0 : NaN;
      mean[2 * j + 1] = c1 > 0 ? s1 / c1 : NaN;
    } else {
      const c = sums[3 * j + 2]!;
      mean[2 * j] = c + d0 / n0;
      mean[2 * j + 1] = c + d1 / n1;
    }
  }
  return mean;
}

/**
 * log2 fold change and |log2FC| per feature from the interleaved group means. A plain function,
 * not part of the async `run`: V8 optimises an async function only after ~35 calls and cannot
 * replace it on the stack mid-loop, so this p-long loop ran unoptimised for the first calls.
 */
function foldChanges(
  mean: Float64Array,
  names: readonly string[],
  a: FoldChangeArgs,
): { lfc: Float64Array; score: Float64Array; undefinedRatio: string[] } {
  const p = names.length;
  const lfc = new Float64Array(p);
  const score = new Float64Array(p);
  const undefinedRatio: string[] = [];
  for (let j = 0; j < p; j++) {
    const pos = mean[2 * j + 1]!;
    const neg = mean[2 * j]!;
    let v: number;
    if (a.log_input) v = pos - neg;
    else {
      const num = pos + a.pseudocount;
      const den = neg + a.pseudocount;
      v = num > 0 && den > 0 ? Math.log2(num / den) : NaN;
      if (Number.isNaN(v)) undefinedRatio.push(names[j]!);
    }
    lfc[j] = v;
    score[j] = Math.abs(v);
  }
  return { lfc, score, undefinedRatio };
}

export const foldChange: SelectorDef<FoldChangeArgs> = {
  kind: 'selector',
  code: 'fold_change',
  label: 'Fold change',
  description:
    'log2 ratio of the positive-class to negative-class mean (difference of means for log-scale data).',
  reference: 'limma-style log2 fold change; Smyth (2004) Stat. Appl. Genet. Mol. Biol. 3:3',
  tasks: ['binary'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    const { labels } = classLabels(ds);
    ctx.progress(0, 'fold change');
    const mean = classMeans(ds.data, ds.nSamples, ds.nFeatures, labels);
    const { lfc, score, undefinedRatio } = foldChanges(mean, ds.featureNames, a);
    const selected = selectTop(ds, score, k, j => score[j]! >= a.threshold);
    ctx.progress(1, 'fold change');
    // The name-keyed records are built on first read (see stats/lazy.ts): at 20,000 features
    // each costs about as much as the group means themselves.
    const names = ds.featureNames;
    return withLazy(
      {
        selected,
        params: { threshold: a.threshold, log_input: a.log_input, pseudocount: a.pseudocount },
        diagnostics: withLazy({ undefinedRatio }, { log2FoldChange: () => recordOf(names, lfc) }),
        backend: 'float64',
      },
      { scores: () => recordOf(names, score) },
    );
  },
};
