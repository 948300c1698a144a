import { makeDataset, selectFeaturesByName } from '../../../compute/core/dataset';

// 3 samples × 3 features, column-major.
const ds = makeDataset({
  data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  nSamples: 3,
  featureNames: ['a', 'b', 'c'],
});

describe('selectFeaturesByName', () => {
  it('returns the dataset itself when the names are its features in order (no copy)', () => {
    expect(selectFeaturesByName(ds, ['a', 'b', 'c'])).toBe(ds);
  });

  it('copies the requested columns in the requested order otherwise', () => {
    const q = selectFeaturesByName(ds, ['c', 'a', 'b']);
    expect(q).not.toBe(ds);
    expect(q.featureNames).toEqual(['c', 'a', 'b']);
    expect(Array.from(q.data)).toEqual([7, 8, 9, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(selectFeaturesByName(ds, ['b']).data)).toEqual([4, 5, 6]);
  });

  it('names the first missing feature', () => {
    expect(() => selectFeaturesByName(ds, ['a', 'zz'])).toThrow(
      'feature "zz" is not in the dataset',
    );
  });
});
