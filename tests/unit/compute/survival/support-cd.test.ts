/**
 * The WebAssembly coordinate-descent kernel of the penalised Cox fit. Tolerance: none — it must
 * give the JavaScript loop's bits (coefficients, gradient and step totals), on singular systems
 * (more coordinates than rank, the case it serves), odd and even sizes, lasso and elastic net.
 */
import { Rng } from '../../../../compute/core/rng';
import { cholesky } from '../../../../compute/survival/coxph';
import {
  supportCd,
  supportCdJs,
  supportCdUsesWasm,
  supportCholesky,
  supportGram,
} from '../../../../compute/survival/support-cd';

function problem(m0: number, rank: number, seed: number) {
  const rng = new Rng(seed);
  // M = BᵀB with B rank × m0: positive semi-definite, singular when rank < m0.
  const B = Float64Array.from({ length: rank * m0 }, () => rng.normal());
  const M = new Float64Array(m0 * m0);
  for (let a = 0; a < m0; a++)
    for (let b = 0; b < m0; b++) {
      let s = 0;
      for (let r = 0; r < rank; r++) s += B[r * m0 + a]! * B[r * m0 + b]!;
      M[a * m0 + b] = s / rank;
    }
  const p = m0 + 7;
  const S = Array.from({ length: m0 }, (_, a) => a + (a % 3)); // positions → coefficients
  const beta = new Float64Array(p + 3);
  for (const j of S) beta[j] = rng.normal() * 0.1;
  const grad = Float64Array.from({ length: m0 }, () => rng.normal());
  const total = new Float64Array(m0);
  return { M, S, beta, grad, total };
}

// The wasm kernels are switched off under OMICSELECTOR_NO_SIMD=1 (the fallback loops are then what
// the survival golden tests exercise), so there is nothing to compare.
const describeWasm = process.env.OMICSELECTOR_NO_SIMD === '1' ? describe.skip : describe;

describeWasm('supportCd (wasm) equals supportCdJs bit for bit', () => {
  it.each([
    [1, 1, 0.05, 0],
    [2, 1, 0.05, 0],
    [7, 3, 0.02, 0],
    [40, 25, 0.01, 0],
    [41, 41, 0.01, 0.003],
    [97, 60, 0.002, 0],
  ])('m0 = %i, rank %i, thr %f, ridge %f', (m0, rank, thr, ridge) => {
    expect(supportCdUsesWasm()).toBe(true);
    const a = problem(m0, rank, m0 * 7 + rank);
    const b = problem(m0, rank, m0 * 7 + rank);
    supportCdJs(a.M, m0, a.grad, a.S, a.beta, a.total, thr, ridge, 1e-12);
    supportCd(b.M, m0, b.grad, b.S, b.beta, b.total, thr, ridge, 1e-12);
    expect(Array.from(b.beta)).toEqual(Array.from(a.beta));
    expect(Array.from(b.grad)).toEqual(Array.from(a.grad));
    expect(Array.from(b.total)).toEqual(Array.from(a.total));
    // It did move: some coefficient changed and some were set to zero by the threshold.
    expect(a.total.some(v => v !== 0)).toBe(true);
  });
});

describeWasm('supportGram and supportCholesky (wasm) equal the JavaScript loops', () => {
  it.each([1, 2, 3, 8, 9, 30])('m0 = %i', m0 => {
    const rng = new Rng(m0);
    const n = 13 + (m0 % 4);
    const p = m0 + 5;
    const xs = Float64Array.from({ length: n * p }, () => rng.normal());
    const S = Array.from({ length: m0 }, (_, a) => (a * 3) % p).sort((a, b) => a - b);
    const uniq = [...new Set(S)];
    const hx: (Float64Array | undefined)[] = new Array(p);
    for (const j of uniq) hx[j] = Float64Array.from({ length: n }, () => rng.normal());
    const M = new Float64Array(uniq.length * uniq.length);
    expect(supportGram(xs, n, uniq, hx, M)).toBe(true);
    const m = uniq.length;
    // coxnet's loop: entries b ≤ a as sequential sums x_aᵀ(H x_b), mirrored (H x is symmetric).
    for (let a = 0; a < m; a++)
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += xs[uniq[a]! * n + i]! * hx[uniq[b]!]![i]!;
        expect(M[a * m + b]).toBe(s);
        expect(M[b * m + a]).toBe(s);
      }
    // A positive-definite system (Gram of random vectors plus a ridge) and a singular one.
    const G = new Float64Array(m * m);
    for (let a = 0; a < m; a++)
      for (let b = 0; b < m; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += xs[uniq[a]! * n + i]! * xs[uniq[b]! * n + i]!;
        G[a * m + b] = s + (a === b ? 0.5 : 0);
      }
    const want = cholesky(G, m);
    expect(want).not.toBeNull();
    expect(Array.from(supportCholesky(G, m)!)).toEqual(Array.from(want!));
    if (m > n) {
      const singular = G.map((v, i) => (i % (m + 1) === 0 ? v - 0.5 : v));
      expect(cholesky(singular, m)).toBeNull();
      expect(supportCholesky(singular, m)).toBeNull();
    }
  });
});
