/**
 * Combining several selectors' results into one ranking / selection. Pure functions over
 * {selected, scores} per selector; every mode returns a combined score per feature (higher =
 * better) and its own selection rule:
 *   majority     votes = number of selectors that selected the feature; keep votes ≥ min_votes
 *                (a count, or a fraction of the selectors when < 1, rounded up as OmicSelector2).
 *   soft_vote    Σ w_s · s̃_s(f) / Σ w_s with each selector's scores min–max normalised to [0, 1]
 *                (missing → 0); keep ≥ soft_threshold.
 *   borda        Σ_s (p − rank_s(f)); mean_rank: −mean rank; keep the top ⌈median set size⌉.
 *   rra          robust rank aggregation (Kolde et al. 2012, Bioinformatics 28:573): normalised
 *                ranks r_(1) ≤ … ≤ r_(m), ρ = min_k P(Beta(k, m − k + 1) ≤ r_(k)), Bonferroni
 *                p = min(1, m·ρ) (RobustRankAggreg's exact = FALSE); score −log10 p; keep p ≤ alpha.
 *   intersection selected by every selector; union: by any (both ordered by votes, then mean rank).
 * Ranks come from each selector's scores (descending, ties by column order, NaN last).
 */
import { rankAndSelect } from '../core/select';

export type EnsembleMode =
  'majority' | 'soft_vote' | 'borda' | 'mean_rank' | 'rra' | 'intersection' | 'union';

export const ENSEMBLE_MODES: readonly EnsembleMode[] = [
  'majority',
  'soft_vote',
  'borda',
  'mean_rank',
  'rra',
  'intersection',
  'union',
];

export interface MemberResult {
  selected: readonly string[];
  scores: Readonly<Record<string, number>>;
}

export interface AggregateOptions {
  min_votes?: number;
  weights?: readonly number[];
  soft_threshold?: number;
  rra_alpha?: number;
}

export interface Aggregate {
  /** Combined score per feature (dataset order), higher = better. */
  score: Float64Array;
  /** Features the mode's own rule keeps (before any top-k). */
  keep: (j: number) => boolean;
  votes: Int32Array;
  meanRank: Float64Array;
  /** RRA only: Bonferroni-corrected p-values. */
  pValues?: Float64Array;
}

/** 1-based rank of every feature in each member's ranking. */
export function memberRanks(
  featureNames: readonly string[],
  members: readonly MemberResult[],
): Float64Array[] {
  return members.map(m => {
    const scores = featureNames.map(f => m.scores[f] ?? NaN);
    const { order } = rankAndSelect({ featureNames: featureNames as string[] }, scores, undefined);
    const rank = new Float64Array(featureNames.length);
    order.forEach((j, r) => (rank[j] = r + 1));
    return rank;
  });
}

/** P(Beta(k, m − k + 1) ≤ x) = P(Binomial(m, x) ≥ k), exact for integer parameters. */
export function betaOrderCdf(k: number, m: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // Σ_{j=k}^{m} C(m, j) x^j (1 − x)^{m−j}, terms built in log space for stability
  let total = 0;
  const lx = Math.log(x);
  const l1x = Math.log1p(-x);
  let logC = 0; // log C(m, 0)
  for (let j = 0; j <= m; j++) {
    if (j > 0) logC += Math.log((m - j + 1) / j);
    if (j >= k) total += Math.exp(logC + j * lx + (m - j) * l1x);
  }
  return Math.min(1, total);
}

export function rraPValue(normalisedRanks: readonly number[]): number {
  const r = [...normalisedRanks].sort((a, b) => a - b);
  const m = r.length;
  let rho = 1;
  for (let k = 1; k <= m; k++) rho = Math.min(rho, betaOrderCdf(k, m, r[k - 1]!));
  return Math.min(1, rho * m);
}

export function aggregate(
  featureNames: readonly string[],
  members: readonly MemberResult[],
  mode: EnsembleMode,
  opts: AggregateOptions = {},
): Aggregate {
  const p = featureNames.length;
  const m = members.length;
  if (m === 0) throw new Error('an ensemble needs at least one selector result');
  const index = new Map(featureNames.map((f, j) => [f, j]));
  const votes = new Int32Array(p);
  for (const mem of members) for (const f of mem.selected) votes[index.get(f)!]!++;
  const ranks = memberRanks(featureNames, members);
  const meanRank = new Float64Array(p);
  // Sum integer ranks first and divide once, so equal rank sums give exactly equal means.
  for (const r of ranks) for (let j = 0; j < p; j++) meanRank[j]! += r[j]!;
  for (let j = 0; j < p; j++) meanRank[j]! /= m;
  const score = new Float64Array(p);
  // Ties in votes are broken by mean rank (a tiny fraction that never outweighs one vote).
  const votesThenRank = (j: number): number => votes[j]! - meanRank[j]! / (p + 1);
  const medianSize = (() => {
    const sizes = members.map(x => x.selected.length).sort((a, b) => a - b);
    return Math.max(1, Math.ceil(sizes[Math.floor((sizes.length - 1) / 2)]!));
  })();
  const topByScore = (): ((j: number) => boolean) => {
    const order = Array.from({ length: p }, (_, j) => j).sort(
      (a, b) => score[b]! - score[a]! || a - b,
    );
    const keep = new Set(order.slice(0, medianSize));
    return j => keep.has(j);
  };
  switch (mode) {
    case 'majority': {
      const raw = opts.min_votes ?? 0.5;
      const need = raw < 1 ? Math.ceil(raw * m) : raw;
      for (let j = 0; j < p; j++) score[j] = votesThenRank(j);
      return { score, keep: j => votes[j]! >= need && votes[j]! > 0, votes, meanRank };
    }
    case 'soft_vote': {
      const w = opts.weights?.length ? opts.weights : members.map(() => 1);
      if (w.length !== m) throw new Error(`weights: ${w.length} weights for ${m} selectors`);
      const wsum = w.reduce((a, b) => a + b, 0);
      members.forEach((mem, s) => {
        const vals = featureNames.map(f => mem.scores[f] ?? NaN);
        const finite = vals.filter(Number.isFinite);
        const lo = Math.min(...finite);
        const hi = Math.max(...finite);
        vals.forEach((v, j) => {
          const norm = !Number.isFinite(v) ? 0 : hi > lo ? (v - lo) / (hi - lo) : 1;
          score[j]! += (w[s]! * norm) / wsum;
        });
      });
      const t = opts.soft_threshold ?? 0.5;
      return { score, keep: j => score[j]! >= t, votes, meanRank };
    }
    case 'borda': {
      for (const r of ranks) for (let j = 0; j < p; j++) score[j]! += p - r[j]!;
      return { score, keep: topByScore(), votes, meanRank };
    }
    case 'mean_rank': {
      for (let j = 0; j < p; j++) score[j] = -meanRank[j]!;
      return { score, keep: topByScore(), votes, meanRank };
    }
    case 'rra': {
      const pValues = new Float64Array(p);
      for (let j = 0; j < p; j++) {
        pValues[j] = rraPValue(ranks.map(r => r[j]! / p));
        score[j] = -Math.log10(Math.max(pValues[j]!, 1e-300));
      }
      const alpha = opts.rra_alpha ?? 0.05;
      return { score, keep: j => pValues[j]! <= alpha, votes, meanRank, pValues };
    }
    case 'intersection':
      for (let j = 0; j < p; j++) score[j] = votesThenRank(j);
      return { score, keep: j => votes[j] === m, votes, meanRank };
    case 'union':
      for (let j = 0; j < p; j++) score[j] = votesThenRank(j);
      return { score, keep: j => votes[j]! > 0, votes, meanRank };
  }
}
