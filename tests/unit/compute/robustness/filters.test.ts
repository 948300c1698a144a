/**
 * Robustness sweep (issues #4/#5), statistical filters and single-cell selectors: awkward but
 * valid omics data (cases.ts) through `select`'s own code path. Expectations: expect.ts.
 */
import { SWEPT_SELECTORS, sweepSelectors, withoutCases } from './sweep';

const codes = SWEPT_SELECTORS.filters;

describe('filters on awkward data', () => {
  it('every method of this group has cases for its outcome types', () => {
    expect(withoutCases(codes, 'selector')).toEqual([]);
  });
  sweepSelectors(codes);
});
