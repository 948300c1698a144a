/**
 * Harrell's C for a risk score (higher = shorter survival), as survival::concordance(…,
 * reverse = TRUE) with its default timewt = "n":
 *   C = (concordant + tied_risk / 2) / (concordant + discordant + tied_risk).
 * A pair is comparable when the shorter observed time is an event; a subject censored at an event
 * time counts as outliving it; two events at the same time are tied in time and not comparable.
 *
 * O(n log n): walk distinct times from the largest down, keeping a Fenwick tree of the risk ranks
 * of everyone with a longer time (or censored at the same time); each event then counts how many
 * of them have a lower, equal or higher risk.
 */

export interface Concordance {
  concordance: number;
  concordant: number;
  discordant: number;
  tiedRisk: number;
  /** Event pairs tied in time but not in risk (survival's tied.y). */
  tiedTime: number;
  /** Event pairs tied in both (tied.xy). */
  tiedBoth: number;
  comparable: number;
}

export function harrellC(
  risk: ArrayLike<number>,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
): Concordance {
  const n = risk.length;
  // Dense ranks of the risk scores (1-based) for the Fenwick tree.
  const byRisk = Array.from({ length: n }, (_, i) => i).sort((a, b) => risk[a]! - risk[b]!);
  const rank = new Int32Array(n);
  let levels = 0;
  for (let r = 0; r < n; r++) {
    if (r === 0 || risk[byRisk[r]!]! !== risk[byRisk[r - 1]!]!) levels++;
    rank[byRisk[r]!] = levels;
  }
  const tree = new Float64Array(levels + 1);
  const add = (k: number): void => {
    for (; k <= levels; k += k & -k) tree[k]!++;
  };
  const below = (k: number): number => {
    let s = 0;
    for (; k > 0; k -= k & -k) s += tree[k]!;
    return s;
  };
  const byTime = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]!);
  let inTree = 0;
  let concordant = 0;
  let discordant = 0;
  let tiedRisk = 0;
  let tiedTime = 0;
  let tiedBoth = 0;
  for (let s = 0; s < n;) {
    let e = s;
    const t = time[byTime[s]!]!;
    while (e < n && time[byTime[e]!]! === t) e++;
    // Censored at t outlive the events at t: add them first.
    let deaths = 0;
    for (let r = s; r < e; r++) {
      const i = byTime[r]!;
      if (!event[i]) {
        add(rank[i]!);
        inTree++;
      } else deaths++;
    }
    for (let r = s; r < e; r++) {
      const i = byTime[r]!;
      if (!event[i]) continue;
      const lower = below(rank[i]! - 1);
      const equal = below(rank[i]!) - lower;
      concordant += lower;
      tiedRisk += equal;
      discordant += inTree - lower - equal;
    }
    if (deaths > 1) {
      const byRank = new Map<number, number>();
      for (let r = s; r < e; r++) {
        const i = byTime[r]!;
        if (event[i]) byRank.set(rank[i]!, (byRank.get(rank[i]!) ?? 0) + 1);
      }
      let both = 0;
      for (const c of byRank.values()) both += (c * (c - 1)) / 2;
      tiedBoth += both;
      tiedTime += (deaths * (deaths - 1)) / 2 - both;
    }
    for (let r = s; r < e; r++) {
      const i = byTime[r]!;
      if (event[i]) {
        add(rank[i]!);
        inTree++;
      }
    }
    s = e;
  }
  const comparable = concordant + discordant + tiedRisk;
  return {
    // survival::concordance's arithmetic, ((c − d)/N + 1)/2: equal to (c + t/2)/N in exact
    // arithmetic, and bit-identical to R's value (the other form differs in the last bit when
    // risks are tied).
    concordance: comparable > 0 ? ((concordant - discordant) / comparable + 1) / 2 : NaN,
    concordant,
    discordant,
    tiedRisk,
    tiedTime,
    tiedBoth,
    comparable,
  };
}
