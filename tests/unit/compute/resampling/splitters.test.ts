import { makeDataset, type Dataset, type Outcome } from '../../../../compute/core/dataset';
import { type Fold } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { makeFolds, isHoldout } from '../../../../compute/resampling';
import { userSplit } from '../../../../compute/resampling/holdout';
import { survivalStrata } from '../../../../compute/resampling/survival';

function binaryDs(n: number, positives: number): Dataset {
  const labels = new Int32Array(n);
  for (let i = 0; i < positives; i++) labels[i] = 1;
  return ds(n, { kind: 'binary', labels, classes: ['ctrl', 'case'] });
}

function ds(n: number, outcome: Outcome): Dataset {
  return makeDataset({ data: new Float64Array(n), nSamples: n, featureNames: ['x'], outcome });
}

/** Each sample appears in exactly `times` test folds and never in its own fold's train set. */
function expectPartition(folds: Fold[], n: number, times = 1): void {
  const seen = new Int32Array(n);
  for (const f of folds) {
    const inTest = new Set(f.test);
    for (const i of f.test) seen[i]!++;
    for (const i of f.train) expect(inTest.has(i)).toBe(false);
    expect(f.train.length + f.test.length).toBe(n);
  }
  expect(Array.from(seen).every(c => c === times)).toBe(true);
}

describe('splitters', () => {
  it('kfold: every sample in exactly one test fold, sizes as scikit-learn', () => {
    const folds = makeFolds(binaryDs(23, 10), { code: 'kfold', args: { n_splits: 5 } }, new Rng(1));
    expectPartition(folds, 23);
    expect(folds.map(f => f.test.length)).toEqual([5, 5, 5, 4, 4]);
  });

  it('kfold without shuffle keeps contiguous blocks', () => {
    const folds = makeFolds(
      binaryDs(6, 3),
      { code: 'kfold', args: { n_splits: 3, shuffle: false } },
      new Rng(1),
    );
    expect(folds.map(f => Array.from(f.test))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('is seeded: same seed → same folds, other seed → different folds', () => {
    const d = binaryDs(40, 15);
    const a = makeFolds(d, { code: 'stratified_kfold' }, new Rng(7));
    const b = makeFolds(d, { code: 'stratified_kfold' }, new Rng(7));
    const c = makeFolds(d, { code: 'stratified_kfold' }, new Rng(8));
    expect(a.map(f => Array.from(f.test))).toEqual(b.map(f => Array.from(f.test)));
    expect(a.map(f => Array.from(f.test))).not.toEqual(c.map(f => Array.from(f.test)));
  });

  it('stratified_kfold keeps class counts within one per fold', () => {
    const d = binaryDs(50, 13);
    const folds = makeFolds(d, { code: 'stratified_kfold', args: { n_splits: 5 } }, new Rng(3));
    expectPartition(folds, 50);
    const pos = folds.map(f => Array.from(f.test).filter(i => i < 13).length);
    expect(Math.max(...pos) - Math.min(...pos)).toBeLessThanOrEqual(1);
    const sizes = folds.map(f => f.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('repeated: n_splits × n_repeats folds, each repeat a partition, repeats differ', () => {
    const folds = makeFolds(
      binaryDs(30, 12),
      { code: 'repeated', args: { n_splits: 3, n_repeats: 4 } },
      new Rng(5),
    );
    expect(folds).toHaveLength(12);
    for (let r = 0; r < 4; r++) expectPartition(folds.slice(r * 3, r * 3 + 3), 30);
    expect(Array.from(folds[0]!.test)).not.toEqual(Array.from(folds[3]!.test));
  });

  it('leave_one_out: n folds of one sample', () => {
    const folds = makeFolds(binaryDs(7, 3), { code: 'leave_one_out' }, new Rng(1));
    expect(folds).toHaveLength(7);
    expectPartition(folds, 7);
    expect(folds.every(f => f.test.length === 1)).toBe(true);
  });

  it('train_test_validation: default 60/20/20 stratified, disjoint and complete', () => {
    const d = binaryDs(100, 40);
    const [fold] = makeFolds(d, { code: 'train_test_validation' }, new Rng(1));
    expect(isHoldout(fold!)).toBe(true);
    if (!fold || !isHoldout(fold)) return;
    expect([fold.train.length, fold.test.length, fold.validation.length]).toEqual([60, 20, 20]);
    const all = [...fold.train, ...fold.test, ...fold.validation].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // 40 % positives in each part
    expect(Array.from(fold.test).filter(i => i < 40).length).toBe(8);
    expect(Array.from(fold.validation).filter(i => i < 40).length).toBe(8);
  });

  it('survival_stratified balances events and time bins across folds', () => {
    const n = 80;
    const time = Float64Array.from({ length: n }, (_, i) => i + 1);
    const event = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const d = ds(n, { kind: 'survival', time, event });
    const folds = makeFolds(d, { code: 'survival_stratified', args: { n_splits: 4 } }, new Rng(2));
    expectPartition(folds, n);
    const strata = survivalStrata(d, 4);
    for (const f of folds) {
      const events = Array.from(f.test).filter(i => event[i] === 1).length;
      expect(Math.abs(events - 53 / 4)).toBeLessThanOrEqual(1.5);
      // each of the 8 strata has ≈ n/8 members; each fold gets ≈ 1/4 of them
      const counts = new Map<number, number>();
      for (const i of f.test) counts.set(strata[i]!, (counts.get(strata[i]!) ?? 0) + 1);
      expect(counts.size).toBe(8);
    }
  });

  it('user_split reads train/test/validation labels and names a bad sample', () => {
    const d = binaryDs(4, 2);
    const f = userSplit(d, ['train', 'Test', 'valid', 'train']);
    expect(Array.from(f.train)).toEqual([0, 3]);
    expect(Array.from(f.test)).toEqual([1]);
    expect(Array.from(f.validation)).toEqual([2]);
    expect(() => userSplit(d, ['train', 'x', 'test', 'train'])).toThrow(/S2.*"x"/);
  });

  it('rejects more folds than samples and unknown splitters', () => {
    expect(() =>
      makeFolds(binaryDs(3, 1), { code: 'kfold', args: { n_splits: 5 } }, new Rng(1)),
    ).toThrow(/more than/);
    expect(() => makeFolds(binaryDs(3, 1), { code: 'nope' }, new Rng(1))).toThrow(
      /unknown splitter/,
    );
  });
});
