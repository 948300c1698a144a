/**
 * Pins the binary-gini split search bit for bit. `CartGrower` has a fast scan for two classes
 * without missing values and min_samples_leaf 1 (Boruta's and the default forest's case) that
 * clears the histogram as it reads it; the general scan handles missing values. Both must choose
 * exactly the splits the single general scan chose before the fast path existed: the expected
 * hashes below were produced by that earlier code (commit 980affd) on the same data and seeds.
 * Integer-valued features make tied bins and tied proxies common, so a change in the order of
 * operations or in the tie rule (first best wins) shows up here. Tolerance: none (exact bits of
 * every tree's features, thresholds, values, weights, impurities and missing directions).
 */
import { Rng } from '../../../../compute/core/rng';
import { binColumnsSync } from '../../../../compute/trees/binning';
import { growForestBatch } from '../../../../compute/trees/forest';
import { balancedRowWeights } from '../../../../compute/trees/rf';

function forestHash(missing: boolean): { nodes: number; hash: string } {
  const n = 120;
  const p = 40;
  const rng = new Rng(123);
  const labels = Int32Array.from({ length: n }, (_, i) => (i < 70 ? 0 : 1));
  const data = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) {
      const v = Math.round(rng.normal() * 3 + (j < 3 ? 2 * labels[i]! : 0));
      data[j * n + i] = missing && rng.random() < 0.05 ? NaN : v;
    }
  }
  const b = binColumnsSync(data, n, p, 256);
  const seeds = Array.from({ length: 25 }, (_, t) => new Rng(5).fork(t).seed);
  // growForestBatch directly: in-process, never a possibly stale dist/ build on worker threads
  const res = growForestBatch({
    n,
    p,
    codes: b.codes,
    nClasses: 2,
    labels,
    values: null,
    rowWeight: balancedRowWeights(labels, 2),
    cart: {
      criterion: 'gini',
      maxDepth: 5,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      mtry: 6,
      minImpurityDecrease: 0,
    },
    bootstrap: true,
    seeds,
    binMin: b.binMin,
    binMax: b.binMax,
    offsets: b.offsets,
    oob: false,
    permRepeats: 0,
  });
  let h = 0x811c9dc5;
  const mix = (a: Int32Array | Float64Array | Uint8Array) => {
    for (const x of new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) {
      h = Math.imul(h ^ x, 16777619) >>> 0;
    }
  };
  let nodes = 0;
  for (const { tree: t } of res) {
    nodes += t.nNodes;
    mix(t.feature);
    mix(t.threshold);
    mix(t.value);
    mix(t.weight);
    mix(t.impurity);
    mix(t.missingLeft);
  }
  return { nodes, hash: h.toString(16) };
}

describe('binary gini split search', () => {
  it('fast scan (no missing values, min_samples_leaf 1) grows the same trees as before', () => {
    expect(forestHash(false)).toEqual({ nodes: 691, hash: '5654c8cb' });
  });

  it('general scan (missing values) grows the same trees as before', () => {
    expect(forestHash(true)).toEqual({ nodes: 665, hash: 'de1d6be4' });
  });
});
