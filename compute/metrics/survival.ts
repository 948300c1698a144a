/**
 * Survival metrics: Harrell's C, Uno's IPCW C (Uno et al. 2011, Stat Med 30:1105) and the
 * integrated Brier score with inverse-probability-of-censoring weights (Graf et al. 1999,
 * Stat Med 18:2529).
 *
 * Conventions (the numpy reference in scripts/fixtures/metrics.py implements the same):
 * - A pair (i, j) is comparable when i had the event and T_j > T_i, or T_j = T_i and j is
 *   censored (censored at the event time = survived it), as Harrell / scikit-survival.
 *   Tied risks count ½.
 * - The censoring survival Ĝ is the Kaplan–Meier estimate with censoring as the event; at a tied
 *   time events happen first (they leave the censoring risk set). It is estimated on the training
 *   samples when given, else on the test samples. Weights use Ĝ(T_i−) for events (just before the
 *   event, as pec / riskRegression) and Ĝ(t) for samples still at risk at t.
 * - Terms whose weight would divide by Ĝ = 0 are dropped.
 */
import { harrellC as concordance } from '../survival/concordance';

export interface StepFunction {
  /** Jump times, ascending. */
  times: Float64Array;
  /** Value right after each jump (value before the first jump is 1). */
  values: Float64Array;
}

/** Kaplan–Meier of the censoring distribution (censored = "event"; events leave first at ties). */
export function censoringKm(time: ArrayLike<number>, event: ArrayLike<number>): StepFunction {
  const n = time.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]!);
  const times: number[] = [];
  const values: number[] = [];
  let atRisk = n;
  let g = 1;
  let r = 0;
  while (r < n) {
    const t = time[order[r]!]!;
    let events = 0;
    let censored = 0;
    while (r < n && time[order[r]!] === t) {
      if (event[order[r]!]) events++;
      else censored++;
      r++;
    }
    const risk = atRisk - events;
    if (censored > 0 && risk > 0) {
      g *= 1 - censored / risk;
      times.push(t);
      values.push(g);
    }
    atRisk -= events + censored;
  }
  return { times: Float64Array.from(times), values: Float64Array.from(values) };
}

/** f(t) (right-continuous) or f(t−) (left limit) for a step function starting at 1. */
export function evalStep(f: StepFunction, t: number, left = false): number {
  // last jump index with time < t (left) or ≤ t (right)
  let lo = 0;
  let hi = f.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (left ? f.times[mid]! < t : f.times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 1 : f.values[lo - 1]!;
}

/**
 * Harrell's concordance index (NaN when no pair is comparable): compute/survival/concordance.ts's
 * O(n log n) count, which uses the same pair rules as Uno's C below. The value is formed from the
 * counts with survival::concordance's arithmetic, ((concordant − discordant) / pairs + 1) / 2, so it
 * is bit-identical to R's; (concordant + tied / 2) / pairs is the same number mathematically but
 * can differ in the last bit when risks are tied (seen on omics-like data: 0.8986290535196414 vs
 * R's …415).
 */
export function harrellC(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  risk: ArrayLike<number>,
): number {
  const c = concordance(risk, time, event);
  return c.comparable === 0 ? NaN : ((c.concordant - c.discordant) / c.comparable + 1) / 2;
}

function weightedConcordance(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  risk: ArrayLike<number>,
  weight: (i: number) => number,
  tau: number,
): number {
  const n = time.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    if (!event[i] || !(time[i]! < tau)) continue;
    const w = weight(i);
    if (!(w > 0) || !Number.isFinite(w)) continue;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const comparable = time[j]! > time[i]! || (time[j] === time[i] && !event[j]);
      if (!comparable) continue;
      den += w;
      if (risk[i]! > risk[j]!) num += w;
      else if (risk[i] === risk[j]) num += 0.5 * w;
    }
  }
  return den === 0 ? NaN : num / den;
}

/**
 * Uno's C: Harrell's pairs weighted by Ĝ(T_i−)^−2, events restricted to T_i < tau.
 * `censoring` = Ĝ from the training samples (scikit-survival's `survival_train`).
 */
export function unoC(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  risk: ArrayLike<number>,
  censoring: StepFunction = censoringKm(time, event),
  tau = Infinity,
): number {
  return weightedConcordance(
    time,
    event,
    risk,
    i => {
      const g = evalStep(censoring, time[i]!, true);
      return g > 0 ? 1 / (g * g) : 0;
    },
    tau,
  );
}

/**
 * Default evaluation times for the integrated Brier score: the distinct event times between the
 * 10th and 90th percentiles of the observed times (numpy linear percentiles); all distinct event
 * times but the last when fewer than two fall inside.
 */
export function defaultBrierTimes(time: ArrayLike<number>, event: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(time).sort();
  const pct = (p: number): number => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    return (
      sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!)
    );
  };
  const q10 = pct(0.1);
  const q90 = pct(0.9);
  const events = [...new Set(Array.from(time).filter((_, i) => event[i]))].sort((a, b) => a - b);
  const inside = events.filter(t => t >= q10 && t <= q90);
  return Float64Array.from(inside.length >= 2 ? inside : events.slice(0, -1));
}

/** Brier score at each time: `surv` is row-major n × times.length, S_i(t_k). */
export function brierScores(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  surv: Float64Array,
  times: Float64Array,
  censoring: StepFunction = censoringKm(time, event),
): Float64Array {
  const n = time.length;
  const m = times.length;
  const out = new Float64Array(m);
  const gEvent = Float64Array.from({ length: n }, (_, i) => evalStep(censoring, time[i]!, true));
  for (let k = 0; k < m; k++) {
    const t = times[k]!;
    const gt = evalStep(censoring, t);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = surv[i * m + k]!;
      if (time[i]! <= t) {
        if (event[i] && gEvent[i]! > 0) sum += (s * s) / gEvent[i]!;
      } else if (gt > 0) sum += ((1 - s) * (1 - s)) / gt;
    }
    out[k] = sum / n;
  }
  return out;
}

/** Trapezoidal integral of the Brier curve divided by the time span (scikit-survival's IBS). */
export function integratedBrier(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  surv: Float64Array,
  times: Float64Array,
  censoring?: StepFunction,
): number {
  const m = times.length;
  if (m < 2) return NaN;
  const bs = brierScores(time, event, surv, times, censoring);
  let area = 0;
  for (let k = 1; k < m; k++) area += ((bs[k]! + bs[k - 1]!) / 2) * (times[k]! - times[k - 1]!);
  return area / (times[m - 1]! - times[0]!);
}

/**
 * Turn risk scores into survival curves when a model gives only a risk: fit a one-covariate Cox
 * model h(t|r) = h0(t)·exp(β·r) on the training risks (Newton–Raphson, Breslow ties), take the
 * Breslow baseline, and return S(t|r) = exp(−H0(t)·exp(β·(r − r̄))). Works for any monotone risk
 * scale because β recalibrates it. Row-major n × times.length.
 */
export function riskToSurvival(
  train: { time: ArrayLike<number>; event: ArrayLike<number>; risk: ArrayLike<number> },
  risk: ArrayLike<number>,
  times: Float64Array,
): Float64Array {
  const n = train.time.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += train.risk[i]!;
  mean /= n;
  const r = Float64Array.from({ length: n }, (_, i) => train.risk[i]! - mean);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => train.time[b]! - train.time[a]!,
  );
  const beta = coxBeta1d(train.time, train.event, r, order);
  // Breslow baseline: walk times descending accumulating the risk-set sum.
  const jumps: { t: number; h: number }[] = [];
  let riskSum = 0;
  let idx = 0;
  while (idx < n) {
    const t = train.time[order[idx]!]!;
    let d = 0;
    while (idx < n && train.time[order[idx]!] === t) {
      riskSum += Math.exp(beta * r[order[idx]!]!);
      if (train.event[order[idx]!]) d++;
      idx++;
    }
    if (d > 0) jumps.push({ t, h: d / riskSum });
  }
  jumps.reverse();
  const cumTimes = Float64Array.from(jumps, j => j.t);
  const cum = new Float64Array(jumps.length);
  jumps.forEach((j, k) => (cum[k] = (k > 0 ? cum[k - 1]! : 0) + j.h));
  const H0 = times.map(t => {
    let lo = 0;
    let hi = cumTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumTimes[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : cum[lo - 1]!;
  });
  const m = times.length;
  const out = new Float64Array(risk.length * m);
  for (let i = 0; i < risk.length; i++) {
    const e = Math.exp(beta * (risk[i]! - mean));
    for (let k = 0; k < m; k++) out[i * m + k] = Math.exp(-H0[k]! * e);
  }
  return out;
}

/** β of a one-covariate Cox model, Breslow ties; `order` = indices by time descending. */
function coxBeta1d(
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  x: Float64Array,
  order: number[],
): number {
  let beta = 0;
  for (let it = 0; it < 50; it++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let grad = 0;
    let hess = 0;
    let idx = 0;
    while (idx < order.length) {
      const t = time[order[idx]!]!;
      let d = 0;
      let xsum = 0;
      while (idx < order.length && time[order[idx]!] === t) {
        const i = order[idx]!;
        const w = Math.exp(beta * x[i]!);
        s0 += w;
        s1 += w * x[i]!;
        s2 += w * x[i]! * x[i]!;
        if (event[i]) {
          d++;
          xsum += x[i]!;
        }
        idx++;
      }
      if (d > 0) {
        const mu = s1 / s0;
        grad += xsum - d * mu;
        hess += d * (s2 / s0 - mu * mu);
      }
    }
    if (!(hess > 0)) return beta;
    const step = grad / hess;
    // Damped Newton: a risk that separates perfectly would otherwise send β to infinity.
    beta += Math.max(-5, Math.min(5, step));
    if (Math.abs(step) < 1e-12 * (1 + Math.abs(beta))) break;
  }
  return beta;
}
