/**
 * compute/stats/selection.ts topOrder (quickselect cut + sort of the top k only) must equal the
 * first k entries of rankOrder (score descending, ties by index, NaN last) exactly, including
 * ties straddling the cut, signed zeros, NaN scores and k near p.
 */
import { Rng } from '../../../../compute/core/rng';
import { selectTop, topOrder } from '../../../../compute/stats/selection';
import { rankOrder } from '../../../../compute/stats/sort';

function scoresOf(kind: string, p: number, rng: Rng): Float64Array {
  const s = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (kind === 'distinct') s[j] = rng.normal();
    else if (kind === 'ties') s[j] = rng.int(7);
    else if (kind === 'zeros')
      s[j] = rng.random() < 0.9 ? (rng.random() < 0.5 ? -0 : 0) : rng.normal();
    else s[j] = rng.random() < 0.3 ? NaN : rng.int(5);
  }
  return s;
}

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

  it('selectTop with k returns the names of that order', () => {
    const rng = new Rng(9);
    const s = scoresOf('ties', 400, rng);
    const names = Array.from({ length: 400 }, (_, j) => `g${j}`);
    const want = Array.from(rankOrder(s).subarray(0, 37), j => names[j]);
    expect(selectTop({ featureNames: names }, s, 37, () => true)).toEqual(want);
  });
});
