/**
 * Shared ranking rules so every selector turns scores into `selected` the same way.
 */
import { rankOrder } from '../stats/ranking';
import { type Dataset } from './dataset';

/**
 * Rank features by score (descending; ties by original column order, so output is deterministic).
 * With k > 0 keep the top k; otherwise keep those the method's own rule accepts (`keep`).
 * NaN scores rank last and are never kept by the own rule.
 *
 * The order comes from `rankOrder` (a typed-array quicksort on the negated scores, runs of equal
 * scores put back in column order), not from `Int32Array.sort` with a comparator: the same
 * order (−0 and +0 tie, NaN last by column), ~5× less time — the comparator sort cost more than
 * computing a cheap filter's scores (1.2 ms of a 2.5 ms 2,000-feature call).
 */
export function rankAndSelect(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  k: number | undefined,
  keep?: (j: number) => boolean,
): { selected: string[]; scores: Record<string, number>; order: Int32Array } {
  const names = ds.featureNames;
  const p = names.length;
  const order = rankOrder(p === scores.length ? scores : Array.prototype.slice.call(scores, 0, p));
  const scoreMap: Record<string, number> = {};
  for (let j = 0; j < p; j++) scoreMap[names[j]!] = scores[j]!;
  const selected: string[] = [];
  if (k !== undefined && k > 0) {
    const m = Math.min(k, p);
    for (let r = 0; r < m; r++) selected.push(names[order[r]!]!);
  } else {
    for (let r = 0; r < p; r++) {
      const j = order[r]!;
      const s = scores[j]!;
      if (s === s && (keep ? keep(j) : true)) selected.push(names[j]!);
    }
  }
  return { selected, scores: scoreMap, order };
}
