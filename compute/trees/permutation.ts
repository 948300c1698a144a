/**
 * scikit-learn's `permutation_importance` for tree ensembles on a given dataset: for each feature,
 * `n_repeats` times shuffle its column, re-score, importance = baseline score − mean permuted
 * score (accuracy for classes, R² for regression — the estimators' default `score`).
 *
 * Fast path: per-tree outputs are cached, and permuting feature f only re-runs the trees that
 * split on f. Features no tree uses get exactly 0 (shuffling them cannot change a prediction).
 */
import { checkAbort } from '../core/method';
import { type Rng } from '../core/rng';
import { accuracy, argmax, r2 } from './metrics';
import { leafOf, leafOfPermuted, type Tree, usedFeatures } from './tree';

export interface PermutationResult {
  mean: Float64Array;
  std: Float64Array;
  baseline: number;
}

/**
 * `combine`: 'mean' (forests: average tree outputs) — the ensemble output is Σ_t out_t / T.
 * `x` is column-major n × p with the same columns the trees were trained on.
 */
export function forestPermutationImportance(
  trees: Tree[],
  x: Float64Array,
  n: number,
  p: number,
  truth: { labels: Int32Array | null; values: Float64Array | null },
  nRepeats: number,
  rng: Rng,
  signal?: AbortSignal,
): PermutationResult {
  const T = trees.length;
  const K = trees[0]?.nOut ?? 1;
  const cache = trees.map(tree => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = leafOf(tree, x, n, i);
    return out;
  });
  const base = new Float64Array(n * K);
  trees.forEach((tree, t) => {
    const leaves = cache[t]!;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < K; c++) base[i * K + c] += tree.value[leaves[i]! * K + c]! / T;
    }
  });
  const score = (agg: Float64Array): number => {
    if (truth.labels) {
      const pred = new Int32Array(n);
      for (let i = 0; i < n; i++) pred[i] = argmax(agg, i * K, K);
      return accuracy(truth.labels, pred);
    }
    return r2(truth.values!, agg);
  };
  const baseline = score(base);
  const byFeature = new Map<number, number[]>();
  trees.forEach((tree, t) => {
    for (const f of usedFeatures(tree)) {
      const list = byFeature.get(f) ?? [];
      list.push(t);
      byFeature.set(f, list);
    }
  });
  const mean = new Float64Array(p);
  const std = new Float64Array(p);
  const agg = new Float64Array(n * K);
  const features = [...byFeature.keys()].sort((a, b) => a - b);
  for (const f of features) {
    checkAbort(signal);
    const users = byFeature.get(f)!;
    const drops: number[] = [];
    for (let r = 0; r < nRepeats; r++) {
      const perm = rng.permutation(n);
      agg.set(base);
      for (const t of users) {
        const tree = trees[t]!;
        const leaves = cache[t]!;
        for (let i = 0; i < n; i++) {
          const nl = leafOfPermuted(tree, x, n, i, f, perm[i]!);
          const ol = leaves[i]!;
          if (nl === ol) continue;
          for (let c = 0; c < K; c++) {
            agg[i * K + c] += (tree.value[nl * K + c]! - tree.value[ol * K + c]!) / T;
          }
        }
      }
      drops.push(baseline - score(agg));
    }
    const m = drops.reduce((a, b) => a + b, 0) / nRepeats;
    mean[f] = m;
    std[f] = Math.sqrt(drops.reduce((a, b) => a + (b - m) ** 2, 0) / nRepeats);
  }
  return { mean, std, baseline };
}
