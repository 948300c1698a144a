/**
 * Survival-stratified k-fold: strata are (event indicator × time quantile bin), with the bins
 * computed within the event and the censored group separately, so every fold gets a similar mix
 * of early/late events and early/late censoring.
 */
import { type Dataset } from '../core/dataset';
import { type SplitterDef } from '../core/method';
import { stratifiedKfoldSplit } from './kfold';

export function survivalStrata(ds: Dataset, timeBins: number): Int32Array {
  const o = ds.outcome;
  if (o.kind !== 'survival') {
    throw new Error(`survival_stratified needs a survival outcome, the dataset has ${o.kind}`);
  }
  const strata = new Int32Array(ds.nSamples);
  for (const ev of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < ds.nSamples; i++) if (o.event[i] === ev) members.push(i);
    // Rank by time (ties by index, deterministic), then cut the ranks into equal-count bins.
    members.sort((a, b) => o.time[a]! - o.time[b]! || a - b);
    members.forEach((i, r) => {
      const bin = Math.min(timeBins - 1, Math.floor((r * timeBins) / members.length));
      strata[i] = ev * timeBins + bin;
    });
  }
  return strata;
}

export const survivalStratified: SplitterDef<{ n_splits: number; time_bins: number }> = {
  kind: 'splitter',
  code: 'survival_stratified',
  label: 'Survival-stratified k-fold',
  description:
    'K-fold stratified on the event indicator and on quantile bins of follow-up time within events and within censored samples.',
  reference: 'stratified k-fold on (event, time quantile) strata',
  tasks: ['survival'],
  args: {
    n_splits: { type: 'integer', default: 5, min: 2, doc: 'Number of folds.' },
    time_bins: {
      type: 'integer',
      default: 4,
      min: 1,
      doc: 'Quantile bins of time within events and within censored samples.',
    },
  },
  split: (ds, args, rng) =>
    stratifiedKfoldSplit(ds, args.n_splits, rng, survivalStrata(ds, args.time_bins)),
};
