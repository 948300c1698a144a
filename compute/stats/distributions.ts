/**
 * CDFs and survival functions of the normal, Student t, F and χ² distributions, each computed on
 * the tail it is asked for (never as 1 − cdf), in log space first so tiny p-values keep their
 * relative precision: t.sf(40, 200) ≈ 1e-98 comes out to ~1e-14 relative, where 1 − cdf gives 0.
 *
 * Identities used (ν = degrees of freedom):
 *   two-sided t:   P(|T| ≥ t) = I_{ν/(ν+t²)}(ν/2, ½), with the complement t²/(ν+t²) exact.
 *   F upper tail:  P(F ≥ f)   = I_{d2/(d2+d1 f)}(d2/2, d1/2).
 *   χ² upper tail: P(X ≥ x)   = Q(k/2, x/2).
 *   normal tail:   P(Z ≥ z)   = ½ Q(½, z²/2) for z ≥ 0.
 */
import { logBetaInc, logGammaIncLower, logGammaIncUpper } from './special';

const LN2 = Math.LN2;

/** ln P(Z ≥ z) for the standard normal. */
export function normalLogSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z >= 0) return logGammaIncUpper(0.5, 0.5 * z * z) - LN2;
  // lower half: P(Z ≥ z) = 1 − P(Z ≥ −z) = ½ + ½ P(½, z²/2)
  return Math.log1p(Math.exp(logGammaIncLower(0.5, 0.5 * z * z))) - LN2;
}

/** P(Z ≥ z) for the standard normal. */
export function normalSf(z: number): number {
  return Math.exp(normalLogSf(z));
}

/** P(Z ≤ z) for the standard normal. */
export function normalCdf(z: number): number {
  return Math.exp(normalLogSf(-z));
}

/** ln P(|T| ≥ |t|), the two-sided p-value of a t statistic with ν degrees of freedom. */
export function tLogSf2(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  const t2 = t * t;
  if (t2 === Infinity) return -Infinity;
  const denom = df + t2;
  return logBetaInc(0.5 * df, 0.5, df / denom, t2 / denom);
}

/** P(|T| ≥ |t|): two-sided t-test p-value. */
export function tSf2(t: number, df: number): number {
  return Math.exp(tLogSf2(t, df));
}

/** P(T ≥ t), one-sided upper tail. */
export function tSf(t: number, df: number): number {
  const half = 0.5 * tSf2(t, df);
  return t >= 0 ? half : 1 - half;
}

/** P(T ≤ t). */
export function tCdf(t: number, df: number): number {
  return tSf(-t, df);
}

/** ln P(F ≥ f) for an F(d1, d2) variable. */
export function fLogSf(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f) || !(d1 > 0) || !(d2 > 0)) return NaN;
  if (f <= 0) return 0;
  if (f === Infinity) return -Infinity;
  const denom = d2 + d1 * f;
  return logBetaInc(0.5 * d2, 0.5 * d1, d2 / denom, (d1 * f) / denom);
}

/** P(F ≥ f). */
export function fSf(f: number, d1: number, d2: number): number {
  return Math.exp(fLogSf(f, d1, d2));
}

/** ln P(X ≥ x) for a χ²(k) variable. */
export function chi2LogSf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  return logGammaIncUpper(0.5 * k, 0.5 * x);
}

/** P(X ≥ x) for a χ²(k) variable. */
export function chi2Sf(x: number, k: number): number {
  return Math.exp(chi2LogSf(x, k));
}

/** P(X ≤ x) for a χ²(k) variable. */
export function chi2Cdf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  return Math.exp(logGammaIncLower(0.5 * k, 0.5 * x));
}

/**
 * Standard normal quantile Φ⁻¹(p): Acklam's rational approximation (relative error 1.15e-9)
 * refined by one Halley step against the tail-accurate cdf above, giving ~1e-15.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
    -3.066479806614716e1, 2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  let x: number;
  if (p < lowTail || p > 1 - lowTail) {
    const q = Math.sqrt(-2 * Math.log(p < lowTail ? p : 1 - p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    if (p > 1 - lowTail) x = -x;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley refinement on the tail that p lives in (so p near 0 keeps its relative precision).
  // cdf(x) − p; for p ≥ ½ written as (1 − p) − sf(x), where 1 − p is exact (Sterbenz).
  const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
