/**
 * K-fold family: kfold, stratified_kfold, repeated (stratified) k-fold and leave-one-out.
 * Seeded from the Rng the caller passes; every sample is in exactly one test fold per repeat.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { type Fold, type SplitterDef } from '../core/method';
import { type Rng } from '../core/rng';
import {
  blockAssignment,
  checkSplits,
  defaultStrata,
  foldsFromAssignment,
  stratifiedAssignment,
} from './strata';

const ALL_TASKS = ['binary', 'multiclass', 'continuous', 'survival', 'unsupervised'] as const;

const kfoldArgs = {
  n_splits: { type: 'integer', default: 5, min: 2, doc: 'Number of folds.' },
  shuffle: {
    type: 'boolean',
    default: true,
    doc: 'Shuffle (seeded) before cutting folds; false keeps the row order as scikit-learn KFold.',
  },
} satisfies ArgSpecs;

interface KFoldArgs {
  n_splits: number;
  shuffle: boolean;
}

export function kfoldSplit(n: number, k: number, shuffle: boolean, rng: Rng): Fold[] {
  checkSplits(n, k);
  const order = shuffle ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  return foldsFromAssignment(blockAssignment(n, k, order), k);
}

/** Stratified by class (or by event for survival); plain k-fold for other outcomes. */
export function stratifiedKfoldSplit(
  ds: Dataset,
  k: number,
  rng: Rng,
  strata?: Int32Array,
): Fold[] {
  checkSplits(ds.nSamples, k);
  return foldsFromAssignment(stratifiedAssignment(strata ?? defaultStrata(ds), k, rng), k);
}

export const kfold: SplitterDef<KFoldArgs> = {
  kind: 'splitter',
  code: 'kfold',
  label: 'K-fold',
  description: 'Samples cut into k folds of near-equal size; each fold is the test set once.',
  reference: 'scikit-learn KFold',
  tasks: ALL_TASKS,
  args: kfoldArgs,
  split: (ds, args, rng) => kfoldSplit(ds.nSamples, args.n_splits, args.shuffle, rng),
};

export const stratifiedKfold: SplitterDef<{ n_splits: number }> = {
  kind: 'splitter',
  code: 'stratified_kfold',
  label: 'Stratified k-fold',
  description:
    'K-fold keeping class proportions in every fold (event proportions for survival; plain k-fold for continuous outcomes).',
  reference: 'scikit-learn StratifiedKFold (shuffle=True)',
  tasks: ALL_TASKS,
  args: { n_splits: kfoldArgs.n_splits },
  split: (ds, args, rng) => stratifiedKfoldSplit(ds, args.n_splits, rng),
};

interface RepeatedArgs {
  n_splits: number;
  n_repeats: number;
  stratify: boolean;
}

/** Repeat r uses rng.fork(r), so adding repeats never changes the earlier ones. */
export function repeatedSplit(ds: Dataset, args: RepeatedArgs, rng: Rng): Fold[] {
  const folds: Fold[] = [];
  for (let r = 0; r < args.n_repeats; r++) {
    const sub = rng.fork(r);
    folds.push(
      ...(args.stratify
        ? stratifiedKfoldSplit(ds, args.n_splits, sub)
        : kfoldSplit(ds.nSamples, args.n_splits, true, sub)),
    );
  }
  return folds;
}

export const repeated: SplitterDef<RepeatedArgs> = {
  kind: 'splitter',
  code: 'repeated',
  label: 'Repeated stratified k-fold',
  description:
    'Stratified k-fold repeated with a fresh seeded shuffle per repeat (n_splits × n_repeats folds, repeat-major order).',
  reference: 'scikit-learn RepeatedStratifiedKFold',
  tasks: ALL_TASKS,
  args: {
    n_splits: kfoldArgs.n_splits,
    n_repeats: { type: 'integer', default: 10, min: 1, doc: 'Number of repeats.' },
    stratify: {
      type: 'boolean',
      default: true,
      doc: 'Stratify by class / event (false: plain shuffled k-fold).',
    },
  },
  split: repeatedSplit,
};

export const leaveOneOut: SplitterDef<Record<string, never>> = {
  kind: 'splitter',
  code: 'leave_one_out',
  label: 'Leave-one-out',
  description: 'n folds, each holding out one sample.',
  reference: 'scikit-learn LeaveOneOut',
  tasks: ALL_TASKS,
  args: {},
  split: ds => {
    checkSplits(ds.nSamples, ds.nSamples, 'samples');
    return foldsFromAssignment(
      Int32Array.from({ length: ds.nSamples }, (_, i) => i),
      ds.nSamples,
    );
  },
};
