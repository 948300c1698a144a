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
import { Scratch } from '../core/scratch';
import { groupMeans, twoGroupMeansInto, zeroOneSplit } from '../stats/columns';
import { recordOf, withLazy } from '../stats/lazy';
import { selectTop } from '../stats/selection';

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

const scratch = Scratch.f64();

/**
 * Class means, interleaved (mean[2j] negative class, mean[2j + 1] positive class): the same bits
 * as stats/columns.ts groupMeans, whose two-group path this is, without the counts. `out`: where
 * to write them (2p doubles); by default a fresh array.
 */
export function classMeans(
  data: Float64Array,
  n: number,
  p: number,
  labels: Int32Array,
  out: Float64Array = new Float64Array(2 * p),
): Float64Array {
  const split = zeroOneSplit(labels);
  if (!split) {
    out.set(groupMeans(data, n, p, labels, 2).mean);
    return out;
  }
  twoGroupMeansInto(data, n, p, split.w, split.n1, out, null);
  return out;
}

/**
 * log2 fold change and |log2FC| (into `score`) per feature from the interleaved group means. A plain function,
 * not part of the async `run`: V8 optimises an async function only after ~35 calls and cannot
 * replace it on the stack mid-loop, so this p-long loop ran unoptimised for the first calls.
 */
function foldChanges(
  mean: Float64Array,
  names: readonly string[],
  a: FoldChangeArgs,
  score: Float64Array,
): { lfc: Float64Array; undefinedRatio: string[] } {
  const p = names.length;
  const lfc = new Float64Array(p);
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
  return { lfc, undefinedRatio };
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
    // The means and |log2FC| are temporaries: kept scratch, not fresh arrays per call (see
    // core/scratch.ts). Only lfc outlives the call; the score record is rebuilt from it.
    const p = ds.nFeatures;
    const work = scratch.take(3 * p);
    const mean = classMeans(ds.data, ds.nSamples, p, labels, work.subarray(0, 2 * p));
    const score = work.subarray(2 * p);
    const { lfc, undefinedRatio } = foldChanges(mean, ds.featureNames, a, score);
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
      { scores: () => recordOf(names, lfc.map(Math.abs)) },
    );
  },
};
