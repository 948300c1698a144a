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

import { rankOrder } from './ranking';

export type PAdjustMethod = 'bh' | 'bonferroni' | 'holm' | 'none';

export const P_ADJUST_METHODS: readonly PAdjustMethod[] = ['bh', 'bonferroni', 'holm', 'none'];

/**
 * Adjusted p-values in the input order. `ascending` may pass an order the caller already has
 * (indices by p ascending, NaN last — e.g. the ranking by −log10 p): BH and Holm give every
 * member of a run of equal p-values the same value whatever their order, so any such order
 * gives identical output. It is checked in one pass and recomputed when it is not one.
 */
export function adjustPValues(
  p: ArrayLike<number>,
  method: PAdjustMethod,
  ascending?: Int32Array,
): Float64Array {
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
  let order: Int32Array;
  if (ascending && isAscendingOrder(p, ascending, m)) order = ascending;
  else {
    // Ascending p, ties by index, NaN last (rankOrder of −p avoids a comparator callback).
    const neg = new Float64Array(n);
    for (let i = 0; i < n; i++) neg[i] = -p[i]!;
    order = rankOrder(neg);
  }
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

/** True when `order` lists the m non-NaN p-values in ascending order, then the NaN ones. */
function isAscendingOrder(p: ArrayLike<number>, order: Int32Array, m: number): boolean {
  if (order.length !== p.length) return false;
  let prev = -Infinity;
  for (let r = 0; r < m; r++) {
    const v = p[order[r]!]!;
    if (!(v >= prev)) return false; // also rejects NaN inside the first m
    prev = v;
  }
  for (let r = m; r < order.length; r++) if (p[order[r]!] === p[order[r]!]) return false;
  return true;
}
