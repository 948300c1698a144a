/**
 * Shared fold-assignment helpers for the splitters: stratified dealing of samples into folds and
 * the conversion of a per-sample fold id into train/test index arrays.
 */
import { type Dataset } from '../core/dataset';
import { type Fold } from '../core/method';
import { type Rng } from '../core/rng';

/** A three-way holdout: every sample is in exactly one of train, test and validation. */
export interface HoldoutFold extends Fold {
  validation: Int32Array;
}

export function isHoldout(fold: Fold): fold is HoldoutFold {
  return (fold as Partial<HoldoutFold>).validation instanceof Int32Array;
}

/**
 * The stratum of each sample for stratified splitting: the class label for class outcomes, the
 * event indicator for survival (refined by the survival splitter), a single stratum otherwise.
 */
export function defaultStrata(ds: Dataset): Int32Array {
  const o = ds.outcome;
  if (o.kind === 'binary' || o.kind === 'multiclass') return Int32Array.from(o.labels);
  if (o.kind === 'survival') return Int32Array.from(o.event);
  return new Int32Array(ds.nSamples);
}

/**
 * Deal samples into `k` folds stratum by stratum. Each stratum is shuffled, then its members are
 * dealt round-robin continuing from where the previous stratum stopped, so every stratum is spread
 * evenly and the overall fold sizes differ by at most one.
 */
export function stratifiedAssignment(strata: Int32Array, k: number, rng: Rng): Int32Array {
  const byStratum = new Map<number, number[]>();
  for (let i = 0; i < strata.length; i++) {
    const s = strata[i]!;
    let list = byStratum.get(s);
    if (!list) byStratum.set(s, (list = []));
    list.push(i);
  }
  const foldOf = new Int32Array(strata.length);
  let next = 0;
  for (const key of [...byStratum.keys()].sort((a, b) => a - b)) {
    const members = Int32Array.from(byStratum.get(key)!);
    rng.shuffle(members);
    for (const i of members) {
      foldOf[i] = next;
      next = (next + 1) % k;
    }
  }
  return foldOf;
}

/** Unstratified assignment as scikit-learn KFold: contiguous blocks of a (shuffled) order. */
export function blockAssignment(n: number, k: number, order: Int32Array): Int32Array {
  const foldOf = new Int32Array(n);
  const base = Math.floor(n / k);
  const extra = n % k;
  let pos = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    for (let m = 0; m < size; m++) foldOf[order[pos++]!] = f;
  }
  return foldOf;
}

/** Fold f's test set = samples with foldOf == f; its training set = all the others (ascending). */
export function foldsFromAssignment(foldOf: Int32Array, k: number): Fold[] {
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < foldOf.length; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return folds;
}

export function checkSplits(n: number, k: number, what = 'n_splits'): void {
  if (k < 2) throw new Error(`${what} must be at least 2, got ${k}`);
  if (k > n) throw new Error(`${what}=${k} is more than the ${n} samples`);
}
