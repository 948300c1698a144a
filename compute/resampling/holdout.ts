/**
 * Three-way holdout splits: a seeded stratified train/test/validation partition (OmicSelector's
 * 60/20/20 default) and a user-given split column. Both return one fold carrying `validation`.
 */
import { type Dataset } from '../core/dataset';
import { type Fold, type SplitterDef } from '../core/method';
import { type Rng } from '../core/rng';
import { defaultStrata, type HoldoutFold } from './strata';
import { survivalStrata } from './survival';

export interface HoldoutArgs {
  test_size: number;
  validation_size: number;
  stratify: boolean;
}

/**
 * Per stratum: shuffle, then the first round(n_s · test_size) go to test, the next
 * round(n_s · validation_size) to validation, the rest to train — so class (or event/time)
 * proportions match across the three parts, like caret::createDataPartition in OmicSelector.
 */
export function trainTestValidationSplit(ds: Dataset, args: HoldoutArgs, rng: Rng): HoldoutFold {
  if (args.test_size + args.validation_size >= 1) {
    throw new Error('test_size + validation_size must be below 1');
  }
  const strata = !args.stratify
    ? new Int32Array(ds.nSamples)
    : ds.outcome.kind === 'survival'
      ? survivalStrata(ds, 2)
      : defaultStrata(ds);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < ds.nSamples; i++) {
    const list = groups.get(strata[i]!) ?? [];
    list.push(i);
    groups.set(strata[i]!, list);
  }
  const part = new Int8Array(ds.nSamples); // 0 train, 1 test, 2 validation
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(Int32Array.from(groups.get(key)!));
    const nTest = Math.round(members.length * args.test_size);
    const nVal = Math.round(members.length * args.validation_size);
    members.forEach((i, m) => {
      part[i] = m < nTest ? 1 : m < nTest + nVal ? 2 : 0;
    });
  }
  return partsToFold(part);
}

function partsToFold(part: Int8Array): HoldoutFold {
  const lists: number[][] = [[], [], []];
  part.forEach((p, i) => lists[p]!.push(i));
  if (lists[0]!.length === 0) throw new Error('the split leaves no training samples');
  return {
    train: Int32Array.from(lists[0]!),
    test: Int32Array.from(lists[1]!),
    validation: Int32Array.from(lists[2]!),
  };
}

export const trainTestValidation: SplitterDef<HoldoutArgs> = {
  kind: 'splitter',
  code: 'train_test_validation',
  label: 'Train / test / validation',
  description:
    'One seeded stratified partition into training, test and validation samples (default 60/20/20 as OmicSelector).',
  reference: 'OmicSelector OmicSelector_prepare_split (caret::createDataPartition)',
  tasks: ['binary', 'multiclass', 'continuous', 'survival', 'unsupervised'],
  args: {
    test_size: {
      type: 'number',
      default: 0.2,
      min: 0,
      max: 0.9,
      exclusiveMin: true,
      doc: 'Fraction of samples for the test set.',
    },
    validation_size: {
      type: 'number',
      default: 0.2,
      min: 0,
      max: 0.9,
      doc: 'Fraction of samples for the validation set (0: none).',
    },
    stratify: {
      type: 'boolean',
      default: true,
      doc: 'Stratify by class (survival: event × early/late time).',
    },
  },
  split: (ds, args, rng): Fold[] => [trainTestValidationSplit(ds, args, rng)],
};

const ALIASES: Record<string, 0 | 1 | 2> = {
  train: 0,
  training: 0,
  train_balanced: 0,
  test: 1,
  testing: 1,
  validation: 2,
  valid: 2,
  val: 2,
};

/** A per-sample split column (`train` / `test` / `validation`, OmicSelector's `mix` aliases too). */
export function userSplit(ds: Dataset, labels: readonly string[]): HoldoutFold {
  if (labels.length !== ds.nSamples) {
    throw new Error(`the split column has ${labels.length} values for ${ds.nSamples} samples`);
  }
  const part = new Int8Array(ds.nSamples);
  labels.forEach((raw, i) => {
    const p = ALIASES[raw.trim().toLowerCase()];
    if (p === undefined) {
      throw new Error(
        `sample "${ds.sampleIds[i]}": split label "${raw}" is not train, test or validation`,
      );
    }
    part[i] = p;
  });
  return partsToFold(part);
}

export const userSplitColumn: SplitterDef<{ labels: string[] }> = {
  kind: 'splitter',
  code: 'user_split',
  label: 'User split column',
  description:
    'Train/test/validation as given per sample (labels train|test|validation; OmicSelector mix aliases valid, train_balanced accepted).',
  reference: 'OmicSelector `mix` column',
  tasks: ['binary', 'multiclass', 'continuous', 'survival', 'unsupervised'],
  args: {
    labels: {
      type: 'string[]',
      required: true,
      doc: 'One split label per sample, in dataset order.',
    },
  },
  split: (ds, args): Fold[] => [userSplit(ds, args.labels)],
};
