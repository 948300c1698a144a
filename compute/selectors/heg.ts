/**
 * HEG — high-expression genes (OmicSelector2 `HEGSelector`), unsupervised, for single-cell data.
 * Expression level per gene: `mean`, `median` or `sum` (missing values skipped). Exactly one of k
 * (top k genes) or `percentile` (every gene whose level is ≥ that percentile of all levels, numpy
 * linear interpolation) must be given. The outcome is ignored.
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { checkAbort, type SelectorDef } from '../core/method';
import { rankAndSelect } from '../core/select';

const ALL_TASKS = ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'] as const;

const hegArgs = {
  metric: {
    type: 'enum',
    values: ['mean', 'median', 'sum'],
    default: 'mean',
    doc: 'Expression level per gene.',
  },
  percentile: {
    type: 'number',
    default: null,
    nullable: true,
    min: 0,
    max: 100,
    doc: 'Keep genes with level ≥ this percentile of levels (use instead of k).',
  },
} satisfies ArgSpecs;

export interface HegArgs {
  metric: 'mean' | 'median' | 'sum';
  percentile: number | null;
}

/** numpy.percentile with linear interpolation. */
export function percentileLinear(values: Float64Array, q: number): number {
  const v = values.filter(x => x === x).sort();
  if (v.length === 0) return NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

export const heg: SelectorDef<HegArgs> = {
  kind: 'selector',
  code: 'heg',
  label: 'High-expression genes (single-cell)',
  description:
    'Unsupervised: ranks genes by mean, median or total expression; top k or percentile.',
  reference: 'OmicSelector2 HEGSelector',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: hegArgs,
  async run(ds, args, ctx, k) {
    const hasK = k !== undefined && k > 0;
    if (hasK === (args.percentile !== null)) {
      throw new ArgumentError('percentile', 'give exactly one of k or percentile for heg');
    }
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const level = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      if (j % 4096 === 0) {
        checkAbort(ctx.signal);
        ctx.progress(j / p, 'expression levels');
      }
      const col = ds.data.subarray(j * n, (j + 1) * n);
      if (args.metric === 'median') {
        const v = col.filter(x => x === x).sort();
        const m = v.length;
        level[j] = m === 0 ? NaN : m % 2 ? v[(m - 1) / 2]! : (v[m / 2 - 1]! + v[m / 2]!) / 2;
      } else {
        let s = 0;
        let m = 0;
        for (let i = 0; i < n; i++) {
          const x = col[i]!;
          if (x === x) {
            s += x;
            m++;
          }
        }
        level[j] = args.metric === 'sum' ? s : m ? s / m : NaN;
      }
    }
    const cut = args.percentile !== null ? percentileLinear(level, args.percentile) : -Infinity;
    const ranked = rankAndSelect(ds, level, hasK ? k : undefined, j => level[j]! >= cut);
    ctx.progress(1, 'done');
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { metric: args.metric, percentile: args.percentile, k: hasK ? k : null },
      diagnostics: { expression_levels: ranked.scores, threshold: hasK ? null : cut },
      backend: 'float64',
    };
  },
};
