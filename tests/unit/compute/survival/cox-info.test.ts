/**
 * coxDerivatives builds the information matrix as two Gram matrices (Σ v_i x_i x_iᵀ − AᵀA, on the
 * WebAssembly panel kernel or the JavaScript fallback under OMICSELECTOR_NO_SIMD=1); here it is
 * checked against the textbook per-event-time Efron / Breslow sums, with tied times and
 * censoring at event times. Tolerance 1e-10 relative to the largest entry (summation order only).
 */
import { Rng } from '../../../../compute/core/rng';
import {
  centreColumns,
  coxDerivatives,
  coxFit,
  type Ties,
} from '../../../../compute/survival/coxph';
import { riskSets } from '../../../../compute/survival/risk-sets';

/** ℓ, U, I by the direct formulas (risk sets enumerated per event time). */
function direct(
  xc: Float64Array,
  n: number,
  p: number,
  time: Float64Array,
  event: Uint8Array,
  beta: Float64Array,
  ties: Ties,
): { loglik: number; U: Float64Array; I: Float64Array } {
  const x = (i: number, j: number) => xc[j * n + i]!;
  const eta = Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < p; j++) s += beta[j]! * x(i, j);
    return s;
  });
  const w = eta.map(Math.exp);
  const U = new Float64Array(p);
  const I = new Float64Array(p * p);
  let loglik = 0;
  const times = [...new Set(Array.from(time).filter((_, i) => event[i]))];
  for (const t of times) {
    const R = [...time.keys()].filter(i => time[i]! >= t);
    const D = R.filter(i => time[i] === t && event[i]);
    const d = D.length;
    for (const i of D) {
      loglik += eta[i]!;
      for (let j = 0; j < p; j++) U[j] += x(i, j);
    }
    for (let l = 0; l < d; l++) {
      const f = ties === 'efron' ? l / d : 0;
      const s0 = (set: number[]) => set.reduce((s, i) => s + w[i]!, 0);
      const s1 = (set: number[], j: number) => set.reduce((s, i) => s + w[i]! * x(i, j), 0);
      const s2 = (set: number[], j: number, k: number) =>
        set.reduce((s, i) => s + w[i]! * x(i, j) * x(i, k), 0);
      const den = s0(R) - f * s0(D);
      loglik -= Math.log(den);
      const a = Float64Array.from({ length: p }, (_, j) => (s1(R, j) - f * s1(D, j)) / den);
      for (let j = 0; j < p; j++) {
        U[j] -= a[j]!;
        for (let k = 0; k < p; k++) {
          I[j * p + k] += (s2(R, j, k) - f * s2(D, j, k)) / den - a[j]! * a[k]!;
        }
      }
    }
  }
  return { loglik, U, I };
}

function data(n: number, p: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n * p }, () => rng.normal());
  // Times on a coarse grid: many ties, some censored at event times.
  const time = Float64Array.from({ length: n }, () => 1 + rng.int(12));
  const event = Uint8Array.from({ length: n }, () => (rng.random() < 0.7 ? 1 : 0));
  const beta = Float64Array.from({ length: p }, () => 0.3 * rng.normal());
  return { x, time, event, beta };
}

describe('coxDerivatives (Gram form of the information)', () => {
  it.each(['efron', 'breslow'] as const)('%s: ℓ, U and I equal the direct sums', ties => {
    const n = 60;
    const p = 7;
    const { x, time, event, beta } = data(n, p, 11);
    const { xc } = centreColumns(x, n, p);
    const rs = riskSets(time, event);
    const got = coxDerivatives(xc, p, rs, event, beta, ties);
    const want = direct(xc, n, p, time, event, beta, ties);
    expect(Math.abs(got.loglik - want.loglik)).toBeLessThan(1e-10 * Math.abs(want.loglik));
    const scale = Math.max(...Array.from(want.I, Math.abs));
    for (let t = 0; t < p * p; t++) {
      expect(Math.abs(got.I[t]! - want.I[t]!)).toBeLessThan(1e-10 * scale);
    }
    for (let j = 0; j < p; j++) expect(Math.abs(got.U[j]! - want.U[j]!)).toBeLessThan(1e-10);
    // I is symmetric bit for bit, and without it ℓ and U are the same numbers.
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < j; k++) expect(got.I[j * p + k]).toBe(got.I[k * p + j]);
    }
    const lite = coxDerivatives(xc, p, rs, event, beta, ties, false);
    expect(lite.loglik).toBe(got.loglik);
    expect(Array.from(lite.U)).toEqual(Array.from(got.U));
    expect(lite.I.length).toBe(0);
  });

  it('coxFit without the variance returns the same coefficients', () => {
    const n = 80;
    const p = 5;
    const { x, time, event } = data(n, p, 5);
    const full = coxFit(x, n, p, time, event, { ridge: 2 });
    const lean = coxFit(x, n, p, time, event, { ridge: 2, variance: false });
    expect(lean.converged).toBe(true);
    expect(lean.iterations).toBe(full.iterations);
    expect(Array.from(lean.coef)).toEqual(Array.from(full.coef));
    expect(lean.loglik).toBe(full.loglik);
    expect(full.variance.every(Number.isFinite)).toBe(true);
    expect(lean.variance.every(Number.isNaN)).toBe(true);
  });
});
