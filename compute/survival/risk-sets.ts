/**
 * Risk-set bookkeeping shared by the Cox fits: subjects sorted by time, descending, cut into
 * groups of equal time. Walking the groups in this order grows the risk set {j : T_j ≥ t} one
 * group at a time, so every partial-likelihood sum is a single O(n) pass.
 * A subject censored at an event time is in that event's risk set (coxph and glmnet convention).
 */

export interface RiskSets {
  n: number;
  /** Subject indices by time, descending. */
  order: Int32Array;
  /** Group g covers order[start[g] .. start[g + 1]). */
  start: Int32Array;
  /** Events in each group. */
  events: Int32Array;
  groups: number;
  totalEvents: number;
}

export function riskSets(time: ArrayLike<number>, event: ArrayLike<number>): RiskSets {
  const n = time.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(time[i]!)) throw new Error(`survival time of sample ${i + 1} is missing`);
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => time[b]! - time[a]! || a - b);
  const starts: number[] = [];
  const events: number[] = [];
  let total = 0;
  for (let r = 0; r < n;) {
    const t = time[order[r]!]!;
    starts.push(r);
    let d = 0;
    while (r < n && time[order[r]!]! === t) {
      if (event[order[r]!]) d++;
      r++;
    }
    events.push(d);
    total += d;
  }
  starts.push(n);
  return {
    n,
    order,
    start: Int32Array.from(starts),
    events: Int32Array.from(events),
    groups: events.length,
    totalEvents: total,
  };
}

/** Survival outcome of a dataset or a clear error. */
export function survivalOutcome(o: { kind: string; time?: Float64Array; event?: Uint8Array }): {
  time: Float64Array;
  event: Uint8Array;
} {
  if (o.kind !== 'survival' || !o.time || !o.event) {
    throw new Error(
      `this method needs a survival outcome (time + event), the dataset has ${o.kind}`,
    );
  }
  return { time: o.time, event: o.event };
}
