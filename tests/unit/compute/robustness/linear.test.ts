/**
 * Robustness sweep (issues #4/#5), penalised linear selectors and the meta-selectors (stability
 * selection, ensemble): awkward but valid omics data through `select`'s code path. Expectations
 * and the speed settings (cv = 3, 20 penalties, 10 subsamples): expect.ts.
 */
import { SWEPT_SELECTORS, sweepSelectors, withoutCases } from './sweep';

const codes = SWEPT_SELECTORS.linear;

describe('penalised linear and meta-selectors on awkward data', () => {
  it('every method of this group has cases for its outcome types', () => {
    expect(withoutCases(codes, 'selector')).toEqual([]);
  });
  sweepSelectors(codes);
});
