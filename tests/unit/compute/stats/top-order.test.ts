/**
 * compute/stats/selection.ts topOrder (quickselect cut + sort of the top k only) must equal the
 * first k entries of rankOrder (score descending, ties by index, NaN last) exactly, including
 * ties straddling the cut, signed zeros, NaN scores and k near p; rankOrder (ranking.ts, a bucket
 * sort from 4,096 scores on) must equal a comparator sort on every kind of score vector; the
 * WebAssembly bucket pass behind topOrder (top_buckets.ts) must give that order whenever it does
 * not decline, and must not decline on the score vectors it is there for.
 */
import { Rng } from '../../../../compute/core/rng';
import { selectTop, topOrder } from '../../../../compute/stats/selection';
import { rankOrder } from '../../../../compute/stats/ranking';
import { bucketTopOrder } from '../../../../compute/stats/top_buckets';

function scoresOf(kind: string, p: number, rng: Rng): Float64Array {
  const s = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (kind === 'distinct') s[j] = rng.normal();
    else if (kind === 'ties') s[j] = rng.int(7);
    else if (kind === 'zeros')
      s[j] = rng.random() < 0.9 ? (rng.random() < 0.5 ? -0 : 0) : rng.normal();
    else if (kind === 'nan') s[j] = rng.random() < 0.3 ? NaN : rng.int(5);
    else if (kind === 'positive skewed') s[j] = Math.exp(4 * rng.normal());
    else if (kind === 'negative skewed') s[j] = -Math.exp(4 * rng.normal());
    else if (kind === 'near-ties')
      s[j] = 1 + rng.int(3) * 2 ** -50; // equal high words
    else if (kind === 'infinite') s[j] = rng.random() < 0.01 ? -Infinity : rng.normal();
    else if (kind === 'tiny and huge') s[j] = rng.random() < 0.5 ? 1e-300 * rng.random() : 1e300;
    else s[j] = rng.normal() * 1e-3 + (rng.random() < 0.2 ? 0 : 5); // 'clustered'
  }
  return s;
}

/** The definition: score descending, ties by index, NaN last by index (a comparator sort). */
function reference(s: Float64Array): number[] {
  const idx = Array.from(s, (_, j) => j);
  const nan = (v: number) => v !== v;
  return idx.sort((a, b) => {
    const x = s[a]!;
    const y = s[b]!;
    if (nan(x) || nan(y)) return nan(x) === nan(y) ? a - b : nan(x) ? 1 : -1;
    return x === y ? a - b : y - x > 0 || (y === Infinity && x !== Infinity) ? 1 : -1;
  });
}

const KINDS = [
  'distinct',
  'ties',
  'zeros',
  'nan',
  'positive skewed',
  'negative skewed',
  'near-ties',
  'infinite',
  'tiny and huge',
  'clustered',
];

describe('topOrder', () => {
  for (const kind of ['distinct', 'ties', 'zeros', 'nan']) {
    it(`${kind}: equals the first k of rankOrder`, () => {
      const rng = new Rng(kind.length * 101);
      for (const p of [1, 5, 60, 2000]) {
        const s = scoresOf(kind, p, rng);
        const full = Array.from(rankOrder(s));
        for (const k of new Set([1, 2, 7, p >> 3, p >> 2, (p >> 1) + 1, p - 1, p, p + 3])) {
          if (k < 1) continue;
          expect(Array.from(topOrder(s, k))).toEqual(full.slice(0, k));
        }
      }
    });
  }

  for (const kind of KINDS) {
    it(`${kind}: rankOrder equals a comparator sort, below and above the bucket-sort size`, () => {
      const rng = new Rng(kind.length * 7 + 3);
      for (const p of [100, 4095, 4096, 20000]) {
        const s = scoresOf(kind, p, rng);
        expect(Array.from(rankOrder(s))).toEqual(reference(s));
        const k = p >> 2;
        expect(Array.from(topOrder(s, k))).toEqual(reference(s).slice(0, k));
      }
    });
  }

  it('selectTop with k returns the names of that order', () => {
    const rng = new Rng(9);
    const s = scoresOf('ties', 400, rng);
    const names = Array.from({ length: 400 }, (_, j) => `g${j}`);
    const want = Array.from(rankOrder(s).subarray(0, 37), j => names[j]);
    expect(selectTop({ featureNames: names }, s, 37, () => true)).toEqual(want);
  });
});

describe('bucketTopOrder (WebAssembly)', () => {
  const simdOff = process.env.OMICSELECTOR_NO_SIMD === '1';
  /** normal scores with a tenth NaN: the kernel's scalar (NaN-aware) bucket loop */
  const withNaN = (p: number, rng: Rng) =>
    Float64Array.from({ length: p }, () => (rng.random() < 0.1 ? NaN : rng.normal()));
  const MUST_RUN = ['distinct', 'positive skewed', 'negative skewed', 'normal with NaN'];
  for (const kind of [...KINDS, 'normal with NaN']) {
    it(`${kind}: the comparator order whenever it answers`, () => {
      const rng = new Rng(kind.length * 31 + 1);
      let answered = 0;
      for (const p of [2, 3, 101, 2000, 2001, 20000]) {
        const s = kind === 'normal with NaN' ? withNaN(p, rng) : scoresOf(kind, p, rng);
        const want = reference(s);
        for (const k of new Set([1, 5, p >> 2, p >> 1])) {
          if (k < 1) continue;
          const got = bucketTopOrder(s, k);
          if (got === null) continue;
          answered++;
          expect(Array.from(got)).toEqual(want.slice(0, k));
        }
      }
      if (MUST_RUN.includes(kind) && !simdOff) expect(answered).toBeGreaterThanOrEqual(16);
    });
  }

  it('declines when ties crowd a bucket, and topOrder still answers exactly', () => {
    const rng = new Rng(5);
    const s = scoresOf('ties', 2000, rng);
    expect(bucketTopOrder(s, 500)).toBeNull();
    expect(Array.from(topOrder(s, 500))).toEqual(reference(s).slice(0, 500));
  });
});
