/**
 * Multiple-testing adjustment of p-values, identical to R's `p.adjust` and statsmodels'
 * `multipletests` (methods "BH" = "fdr_bh", "bonferroni", "holm"):
 *
 *   bonferroni: min(1, m p_i)
 *   holm:       step-down, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))
 *   BH:         step-up,   p̃_(i) = min_{j ≥ i} min(1, m / j · p_(j))
 *
 * NaN p-values (e.g. a feature with too few observed values) stay NaN and are not counted in m,
 * as R does after removing NAs.
 */

import { rankOrder } from './sort';

export type PAdjustMethod = 'bh' | 'bonferroni' | 'holm' | 'none';

export const P_ADJUST_METHODS: readonly PAdjustMethod[] = ['bh', 'bonferroni', 'holm', 'none'];

/** Adjusted p-values in the input order. */
export function adjustPValues(p: ArrayLike<number>, method: PAdjustMethod): Float64Array {
  const n = p.length;
  const out = new Float64Array(n);
  // Indices of the non-NaN p-values, sorted ascending by p (stable: ties keep input order).
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(p[i]!)) out[i] = NaN;
    else idx.push(i);
  }
  const m = idx.length;
  if (method === 'none') {
    for (const i of idx) out[i] = p[i]!;
    return out;
  }
  if (method === 'bonferroni') {
    for (const i of idx) out[i] = Math.min(1, m * p[i]!);
    return out;
  }
  // Ascending p, ties by index, NaN last (rankOrder of −p avoids a comparator callback).
  const neg = new Float64Array(n);
  for (let i = 0; i < n; i++) neg[i] = -p[i]!;
  const order = rankOrder(neg);
  if (method === 'holm') {
    let running = 0;
    for (let r = 0; r < m; r++) {
      const i = order[r]!;
      running = Math.max(running, Math.min(1, (m - r) * p[i]!));
      out[i] = running;
    }
    return out;
  }
  // Benjamini–Hochberg
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r]!;
    running = Math.min(running, (m / (r + 1)) * p[i]!);
    out[i] = running;
  }
  return out;
}
