/**
 * Shared ranking rules so every selector turns scores into `selected` the same way.
 */
import { type Dataset } from './dataset';

/**
 * Rank features by score (descending; ties by original column order, so output is deterministic).
 * With k > 0 keep the top k; otherwise keep those the method's own rule accepts (`keep`).
 * NaN scores rank last and are never kept by the own rule.
 */
export function rankAndSelect(
  ds: Pick<Dataset, 'featureNames'>,
  scores: ArrayLike<number>,
  k: number | undefined,
  keep?: (j: number) => boolean,
): { selected: string[]; scores: Record<string, number>; order: Int32Array } {
  const p = ds.featureNames.length;
  const order = new Int32Array(p);
  for (let j = 0; j < p; j++) order[j] = j;
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    const na = Number.isNaN(sa);
    const nb = Number.isNaN(sb);
    if (na !== nb) return na ? 1 : -1;
    if (!na && sa !== sb) return sb - sa;
    return a - b;
  });
  const scoreMap: Record<string, number> = {};
  for (let j = 0; j < p; j++) scoreMap[ds.featureNames[j]!] = scores[j]!;
  let chosen: number[];
  if (k !== undefined && k > 0) {
    chosen = Array.from(order.subarray(0, Math.min(k, p)));
  } else {
    chosen = Array.from(order).filter(j => !Number.isNaN(scores[j]!) && (keep ? keep(j) : true));
  }
  return { selected: chosen.map(j => ds.featureNames[j]!), scores: scoreMap, order };
}
