/**
 * Per-batch mean centring: within each batch (Dataset.batch), every feature's batch mean is
 * subtracted, removing additive batch shifts (the location part of ComBat, without its variance
 * adjustment or empirical Bayes shrinkage). Batch means are learned on the training rows; a batch
 * that first appears when transforming is centred on its own mean. `keep_global_mean` adds the
 * training grand mean back so values stay on their original scale. Missing values are skipped
 * when averaging and stay missing.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { type PreprocessorDef } from '../core/method';
import { columnMoments, groupMoments } from '../stats/columns';
import { ALL_TASKS, featureIndex } from './common';

export interface BatchCenterArgs {
  keep_global_mean: boolean;
}

function batchCodes(ds: Dataset): { labels: Int32Array; names: string[] } {
  if (!ds.batch) throw new Error('batch_center needs a batch label per sample (Dataset.batch)');
  const names = [...new Set(ds.batch)].sort();
  const at = new Map(names.map((b, i) => [b, i]));
  return { labels: Int32Array.from(ds.batch, b => at.get(b)!), names };
}

export const batchCenter: PreprocessorDef<BatchCenterArgs> = {
  kind: 'preprocessor',
  code: 'batch_center',
  label: 'Per-batch mean centring',
  description: 'Subtracts each batch’s per-feature mean (additive batch-effect removal).',
  reference:
    'Sims et al. (2008) BMC Med. Genomics 1:42; Johnson et al. (2007) Biostatistics 8:118 (ComBat, location part)',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    keep_global_mean: {
      type: 'boolean',
      default: false,
      doc: 'Add the training grand mean back after centring.',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const { labels, names: batches } = batchCodes(train);
    const p = train.nFeatures;
    const gm = groupMoments(train.data, train.nSamples, p, labels, batches.length);
    const grand = columnMoments(train.data, train.nSamples, p).mean;
    const learned = new Map<string, Float64Array>();
    batches.forEach((b, g) =>
      learned.set(
        b,
        Float64Array.from({ length: p }, (_, j) => gm.mean[j * batches.length + g]!),
      ),
    );
    const names = train.featureNames;
    return {
      transform: ds => {
        const idx = featureIndex(names, ds, 'batch_center');
        const { labels: lab, names: bs } = batchCodes(ds);
        // Unseen batches: their own means in the data being transformed.
        const own = groupMoments(ds.data, ds.nSamples, ds.nFeatures, lab, bs.length);
        const n = ds.nSamples;
        const data = new Float64Array(ds.data.length);
        for (let j = 0; j < ds.nFeatures; j++) {
          const f = idx[j]!;
          const add = a.keep_global_mean ? grand[f]! : 0;
          for (let i = 0; i < n; i++) {
            const b = bs[lab[i]!]!;
            const mu = learned.get(b)?.[f] ?? own.mean[j * bs.length + lab[i]!]!;
            data[j * n + i] = ds.data[j * n + i]! - mu + add;
          }
        }
        return { ...ds, data };
      },
    };
  },
};
