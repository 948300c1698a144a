/**
 * Kaplan–Meier survival curves and the log-rank test, for plots of survival predictions split
 * into risk groups. Product-limit estimator with deaths before censorings at tied times (the
 * usual convention: survival::survfit, lifelines).
 */
import { chi2LogSf } from '../stats/distributions';

export interface KmCurve {
  /** Distinct event times, ascending. */
  times: number[];
  /** S(t) right after each event time. */
  survival: number[];
  /** Censored times (for tick marks) and S at those times. */
  censored: [number, number][];
  n: number;
  events: number;
}

export function kaplanMeier(time: readonly number[], event: readonly number[]): KmCurve {
  const order = time.map((_, i) => i).sort((a, b) => time[a]! - time[b]! || a - b);
  let atRisk = time.length;
  let s = 1;
  const times: number[] = [];
  const survival: number[] = [];
  const censored: [number, number][] = [];
  let events = 0;
  let r = 0;
  while (r < order.length) {
    const t = time[order[r]!]!;
    let d = 0;
    let c = 0;
    while (r < order.length && time[order[r]!] === t) {
      if (event[order[r]!]) d++;
      else c++;
      r++;
    }
    if (d > 0) {
      s *= 1 - d / atRisk;
      times.push(t);
      survival.push(s);
      events += d;
    }
    if (c > 0) censored.push([t, s]);
    atRisk -= d + c;
  }
  return { times, survival, censored, n: time.length, events };
}

/** Corners of the KM step function from (0, 1) to the last observed time. */
export function kmSteps(km: KmCurve, tEnd: number): [number, number][] {
  const pts: [number, number][] = [[0, 1]];
  let s = 1;
  for (let i = 0; i < km.times.length; i++) {
    pts.push([km.times[i]!, s]);
    s = km.survival[i]!;
    pts.push([km.times[i]!, s]);
  }
  pts.push([tEnd, s]);
  return pts;
}

/**
 * Two-sample log-rank test (Mantel–Haenszel form, as survival::survdiff): χ² with 1 df and its
 * p-value. `group` is 0 / 1 per sample.
 */
export function logRank(
  time: readonly number[],
  event: readonly number[],
  group: readonly number[],
): { chi2: number; p: number } {
  const order = time.map((_, i) => i).sort((a, b) => time[a]! - time[b]!);
  let n = time.length;
  let n1 = group.reduce((a, g) => a + (g === 1 ? 1 : 0), 0);
  let oMinusE = 0;
  let v = 0;
  let r = 0;
  while (r < order.length) {
    const t = time[order[r]!]!;
    let d = 0;
    let d1 = 0;
    let left = 0;
    let left1 = 0;
    while (r < order.length && time[order[r]!] === t) {
      const i = order[r]!;
      if (event[i]) {
        d++;
        if (group[i] === 1) d1++;
      }
      left++;
      if (group[i] === 1) left1++;
      r++;
    }
    if (d > 0 && n > 1) {
      oMinusE += d1 - (d * n1) / n;
      v += (d * (n1 / n) * (1 - n1 / n) * (n - d)) / (n - 1);
    }
    n -= left;
    n1 -= left1;
  }
  const chi2 = v > 0 ? (oMinusE * oMinusE) / v : NaN;
  return { chi2, p: Number.isFinite(chi2) ? Math.exp(chi2LogSf(chi2, 1)) : NaN };
}

/** Median of an array (mean of the middle two for even length). */
export function median(x: readonly number[]): number {
  const s = Float64Array.from(x).sort(); // typed sort: numeric, and fast for large n
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
