/**
 * Breslow estimate of the baseline cumulative hazard of a fitted Cox model:
 *   H₀(t) = Σ_{t_k ≤ t} d_k / Σ_{j ∈ R(t_k)} exp((x_j − x̄)·β̂),
 * held at the covariate means x̄ (as survfit.coxph), so a subject's curve is
 *   S(t | x) = exp(−H₀(t) · exp((x − x̄)·β̂)).
 * This is survfit(fit, newdata, ctype = 1, stype = 2); note survfit's default for an Efron fit
 * is ctype = 2 (Efron-adjusted hazard), which differs at tied event times only.
 */
import { riskSets } from './risk-sets';

export interface BaselineHazard {
  /** Distinct event times, ascending. */
  times: Float64Array;
  /** H₀ at each time (at the covariate means). */
  cumhaz: Float64Array;
}

/** `eta` = (x − x̄)·β̂ for the training subjects. */
export function breslowBaseline(
  eta: ArrayLike<number>,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
): BaselineHazard {
  const rs = riskSets(time, event);
  const jumps: { t: number; dh: number }[] = [];
  let S0 = 0;
  for (let g = 0; g < rs.groups; g++) {
    for (let r = rs.start[g]!; r < rs.start[g + 1]!; r++) S0 += Math.exp(eta[rs.order[r]!]!);
    const d = rs.events[g]!;
    if (d > 0) jumps.push({ t: time[rs.order[rs.start[g]!]!]!, dh: d / S0 });
  }
  jumps.reverse();
  const times = new Float64Array(jumps.length);
  const cumhaz = new Float64Array(jumps.length);
  let h = 0;
  jumps.forEach((j, k) => {
    h += j.dh;
    times[k] = j.t;
    cumhaz[k] = h;
  });
  return { times, cumhaz };
}

/** H₀(t) for any t (step function, right-continuous; 0 before the first event). */
export function cumhazAt(base: BaselineHazard, t: number): number {
  let lo = 0;
  let hi = base.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (base.times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : base.cumhaz[lo - 1]!;
}
