/**
 * The fast paths of the cheap filters give the same answers as the straightforward code they
 * replaced: rankAndSelect's comparator-free order, columnCentredMoments' four-accumulator sums
 * (1e-12 relative to columnMoments; NaN / ±Inf / constant columns), variance_threshold's
 * peak-to-peak rule applied only where it can matter, and hdg's complete-column pass.
 */
import { makeDataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { rankAndSelect } from '../../../../compute/core/select';
import { Rng } from '../../../../compute/core/rng';
import { hdg } from '../../../../compute/selectors/hdg';
import { heg, percentileLinear } from '../../../../compute/selectors/heg';
import { varianceThreshold } from '../../../../compute/selectors/variance_threshold';
import {
  columnCentredMoments,
  columnMoments,
  columnRange,
} from '../../../../compute/stats/columns';
import { adjustPValues } from '../../../../compute/stats/padjust';

/** The comparator sort rankAndSelect used before (score desc, ties by column, NaN last). */
function comparatorRank(
  scores: ArrayLike<number>,
  k: number | undefined,
  keep?: (j: number) => boolean,
) {
  const p = scores.length;
  const order = Int32Array.from({ length: p }, (_, j) => j);
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    const na = Number.isNaN(sa);
    const nb = Number.isNaN(sb);
    if (na !== nb) return na ? 1 : -1;
    if (!na && sa !== sb) return sb - sa;
    return a - b;
  });
  const chosen =
    k !== undefined && k > 0
      ? Array.from(order.subarray(0, Math.min(k, p)))
      : Array.from(order).filter(j => !Number.isNaN(scores[j]!) && (keep ? keep(j) : true));
  return { order: Array.from(order), chosen };
}

const near = (a: number, b: number, tol = 1e-12): boolean =>
  (Number.isNaN(a) && Number.isNaN(b)) ||
  a === b ||
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('rankAndSelect', () => {
  it('orders exactly as the comparator sort (ties, NaN, ±0, ±Infinity)', () => {
    const rng = new Rng(7);
    const pool = [0, -0, 1, -1, NaN, Infinity, -Infinity, 0.5, 2];
    for (let t = 0; t < 300; t++) {
      const p = 1 + rng.int(120);
      const scores = Float64Array.from({ length: p }, () =>
        rng.random() < 0.5 ? pool[rng.int(pool.length)]! : Math.round(rng.random() * 20) / 4,
      );
      const names = Array.from({ length: p }, (_, j) => `g${j}`);
      const k = [undefined, 0, 3, p + 5][t % 4];
      const keep = t % 3 ? (j: number) => scores[j]! > 0.3 : undefined;
      const want = comparatorRank(scores, k, keep);
      const got = rankAndSelect({ featureNames: names }, scores, k, keep);
      expect(Array.from(got.order)).toEqual(want.order);
      expect(got.selected).toEqual(want.chosen.map(j => names[j]));
      expect(Object.keys(got.scores)).toEqual(names);
    }
  });
});

describe('columnCentredMoments', () => {
  it('matches columnMoments on complete, missing, infinite and constant columns', () => {
    const rng = new Rng(3);
    const n = 11; // not a multiple of 4: the tail loop runs
    const cols: number[][] = [
      Array.from({ length: n }, () => 1e6 + rng.normal()),
      Array.from({ length: n }, (_, i) => (i === 4 ? NaN : rng.normal())),
      Array.from({ length: n }, (_, i) => (i === 0 ? NaN : rng.normal())),
      Array.from({ length: n }, () => NaN),
      Array.from({ length: n }, (_, i) => (i === 2 ? Infinity : rng.normal())),
      Array.from({ length: n }, () => 0.1),
      Array.from({ length: n }, () => rng.normal() * 1e-8),
    ];
    const data = Float64Array.from(cols.flat());
    const want = columnMoments(data, n, cols.length);
    const got = columnCentredMoments(data, n, cols.length);
    expect(Array.from(got.count)).toEqual(Array.from(want.count));
    for (let j = 0; j < cols.length; j++) {
      expect(near(got.mean[j]!, want.mean[j]!)).toBe(true);
      expect(near(got.m2[j]!, want.m2[j]!, 1e-10)).toBe(true);
    }
    expect(got.m2[5]).toBe(0);
    expect(columnRange(data, 0, n)).toBe(want.max[0]! - want.min[0]!);
    expect(columnRange(data, 3 * n, 4 * n)).toBeNaN();
  });
});

describe('variance_threshold fast path', () => {
  it('keeps min(variance, peak-to-peak) where the peak-to-peak is smaller', async () => {
    const n = 10;
    const cols = [
      Array.from({ length: n }, (_, i) => (i % 2 ? 10 : 0)), // var 25 > ptp 10
      Array.from({ length: n }, (_, i) => (i % 2 ? 1.5 : 0)), // var 0.5625 < ptp 1.5
      Array.from({ length: n }, () => 0.1), // constant
      Array.from({ length: n }, (_, i) => (i === 3 ? NaN : i % 2 ? 30 : 0)), // missing, var > ptp
    ];
    const ds = makeDataset({
      data: Float64Array.from(cols.flat()),
      nSamples: n,
      featureNames: ['a', 'b', 'c', 'd'],
    });
    const res = await varianceThreshold.run(ds, { threshold: 0 }, quietContext(1));
    expect(res.scores).toEqual({ a: 10, b: 0.5625, c: 0, d: 30 });
    expect(res.selected).toEqual(['d', 'a', 'b']);
    const strict = await varianceThreshold.run(ds, { threshold: 0.5 }, quietContext(1));
    expect(strict.scores.a).toBe(25);
  });
});

describe('hdg fast path', () => {
  it('agrees with two-pass NaN-skipping dispersions, with and without missing values', async () => {
    const rng = new Rng(11);
    const n = 9;
    const p = 6;
    const data = Float64Array.from({ length: n * p }, (_, i) =>
      i % 17 === 5 ? NaN : 2 + rng.normal(),
    );
    const ds = makeDataset({
      data,
      nSamples: n,
      featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
    });
    const res = await hdg.run(ds, { metric: 'cv', min_mean: 0 }, quietContext(1));
    for (let j = 0; j < p; j++) {
      const v = Array.from(data.subarray(j * n, (j + 1) * n)).filter(x => x === x);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
      expect(near(res.scores[`f${j}`]!, sd / (mean + 1e-10))).toBe(true);
    }
  });
});

describe('adjustPValues with a caller-supplied order', () => {
  it('gives the same values for any ascending order and ignores an order that is not one', () => {
    const p = [0.01, 0.2, 0.01, NaN, 0, 0.2, 0.5, 0.01, 1];
    const own = {
      bh: adjustPValues(p, 'bh'),
      holm: adjustPValues(p, 'holm'),
    };
    // ties permuted against index order, NaN last
    const tiesReversed = Int32Array.from([4, 7, 2, 0, 5, 1, 6, 8, 3]);
    const wrong = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const method of ['bh', 'holm'] as const) {
      expect(Array.from(adjustPValues(p, method, tiesReversed))).toEqual(Array.from(own[method]));
      expect(Array.from(adjustPValues(p, method, wrong))).toEqual(Array.from(own[method]));
    }
  });
});

describe('heg fast path', () => {
  it('mean / sum / median with and without missing values', async () => {
    const n = 7;
    const cols = [
      [1, 2, 3, 4, 5, 6, 7],
      [NaN, 2, 9, 4, NaN, 1, 3],
      [0.5, 0.25, 8, 2, 1, 1, 3],
    ];
    const ds = makeDataset({
      data: Float64Array.from(cols.flat()),
      nSamples: n,
      featureNames: ['a', 'b', 'c'],
    });
    const run = (metric: 'mean' | 'median' | 'sum') =>
      heg.run(ds, { metric, percentile: null }, quietContext(1), 3);
    expect((await run('mean')).scores).toEqual({ a: 4, b: 19 / 5, c: 15.75 / 7 });
    expect((await run('sum')).scores).toEqual({ a: 28, b: 19, c: 15.75 });
    expect((await run('median')).scores).toEqual({ a: 4, b: 3, c: 1 });
    expect(percentileLinear(Float64Array.from([3, NaN, 1, 2, 4]), 50)).toBe(2.5);
  });
});

describe('heg median by quickselect', () => {
  it('equals the sorted-array median on long columns with ties and missing values', async () => {
    const rng = new Rng(5);
    for (const n of [40, 41, 100, 257]) {
      const p = 12;
      const data = Float64Array.from({ length: n * p }, () =>
        rng.random() < 0.1 ? NaN : rng.random() < 0.3 ? Math.round(rng.normal()) : rng.normal(),
      );
      const ds = makeDataset({
        data,
        nSamples: n,
        featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
      });
      const res = await heg.run(ds, { metric: 'median', percentile: 50 }, quietContext(1));
      for (let j = 0; j < p; j++) {
        const v = Array.from(data.subarray(j * n, (j + 1) * n))
          .filter(x => x === x)
          .sort((a, b) => a - b);
        const m = v.length;
        const want = m % 2 ? v[(m - 1) / 2]! : (v[m / 2 - 1]! + v[m / 2]!) / 2;
        // === : a median of −0 and +0 may come out as either zero, as in numpy
        expect(res.scores[`g${j}`] === want).toBe(true);
      }
    }
  });
});
