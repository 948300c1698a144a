/**
 * Robustness sweep (issues #4/#5), models: the CLI's parsing, fit, predict on the same rows,
 * save → JSON → load → predict (identical), a second fit with the same seed (identical);
 * predictions finite, probabilities in [0, 1] summing to 1. Expectations: expect.ts.
 */
import { models, selectors } from '../../../../compute/registry';
import { SWEPT_MODELS, SWEPT_SELECTORS, sweepModels, withoutCases } from './sweep';

describe('models on awkward data', () => {
  it('every model has cases for its outcome types', () => {
    expect(withoutCases(SWEPT_MODELS, 'model')).toEqual([]);
  });
  it('the sweep covers every registered selector and model', () => {
    const swept = new Set<string>(Object.values(SWEPT_SELECTORS).flat());
    expect(selectors.map(s => s.code).filter(c => !swept.has(c))).toEqual([]);
    expect(
      models.map(m => m.code).filter(c => !(SWEPT_MODELS as readonly string[]).includes(c)),
    ).toEqual([]);
  });
  sweepModels(SWEPT_MODELS);
});
