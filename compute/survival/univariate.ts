/**
 * Univariate Cox regression for every feature: the scalar case of `coxFit` (Newton–Raphson with
 * step halving, Efron or Breslow ties) in one O(n) pass per iteration, sharing the sorted risk sets
 * across features. Blocks of features run on worker threads.
 *
 * Output per feature: coefficient, its standard error 1/√I(β̂), Wald z = β̂/se and the two-sided
 * normal p-value, as the `coef`, `se(coef)`, `z`, `Pr(>|z|)` columns of summary(coxph(...)).
 * A constant feature gets NaN throughout; a feature with a monotone likelihood (β̂ → ±∞) stops
 * when the log-likelihood stops changing and is flagged not converged.
 */
import { checkAbort } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { normalTwoSidedNegLog10P, normalTwoSidedP } from './normal';
import { riskSets } from './risk-sets';
import { type Ties } from './coxph';

export interface UnivariateCox {
  coef: Float64Array;
  se: Float64Array;
  z: Float64Array;
  p: Float64Array;
  negLog10P: Float64Array;
  converged: Uint8Array;
}

export interface UnivariateBlock {
  /** Column-major n × m block of features. */
  x: Float64Array;
  n: number;
  time: Float64Array;
  event: Uint8Array;
  ties: Ties;
}

/** Fit each column of the block; exported for worker threads. */
export function univariateCoxBlock(input: UnivariateBlock): UnivariateCox {
  const { x, n, time, event, ties } = input;
  const m = x.length / n;
  const rs = riskSets(time, event);
  const { order, start, events, groups } = rs;
  const out: UnivariateCox = {
    coef: new Float64Array(m),
    se: new Float64Array(m),
    z: new Float64Array(m),
    p: new Float64Array(m),
    negLog10P: new Float64Array(m),
    converged: new Uint8Array(m),
  };
  const xs = new Float64Array(n); // centred values in risk-set order
  const ev = new Uint8Array(n);
  for (let r = 0; r < n; r++) ev[r] = event[order[r]!] ? 1 : 0;
  const w = new Float64Array(n);
  const efron = ties === 'efron';

  // ℓ, U, I at β for the current column (xs) in one pass over the groups.
  let U = 0;
  let I = 0;
  const evaluate = (beta: number): number => {
    for (let r = 0; r < n; r++) w[r] = Math.exp(beta * xs[r]!);
    let S0 = 0;
    let S1 = 0;
    let S2 = 0;
    let ll = 0;
    U = 0;
    I = 0;
    for (let g = 0; g < groups; g++) {
      let D0 = 0;
      let D1 = 0;
      let D2 = 0;
      for (let r = start[g]!; r < start[g + 1]!; r++) {
        const wr = w[r]!;
        const xr = xs[r]!;
        const wx = wr * xr;
        S0 += wr;
        S1 += wx;
        S2 += wx * xr;
        if (ev[r]) {
          ll += beta * xr;
          U += xr;
          D0 += wr;
          D1 += wx;
          D2 += wx * xr;
        }
      }
      const d = events[g]!;
      for (let l = 0; l < d; l++) {
        const f = efron ? l / d : 0;
        const den = S0 - f * D0;
        const a = (S1 - f * D1) / den;
        ll -= Math.log(den);
        U -= a;
        I += (S2 - f * D2) / den - a * a;
      }
    }
    return ll;
  };

  for (let j = 0; j < m; j++) {
    const off = j * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[off + i]!;
    mean /= n;
    let spread = 0;
    for (let r = 0; r < n; r++) {
      xs[r] = x[off + order[r]!]! - mean;
      spread = Math.max(spread, Math.abs(xs[r]!));
    }
    if (spread === 0 || !Number.isFinite(spread)) {
      out.coef[j] = out.se[j] = out.z[j] = out.p[j] = out.negLog10P[j] = NaN;
      continue;
    }
    let beta = 0;
    let ll = evaluate(0);
    let converged = false;
    for (let iter = 0; iter < 50 && !converged; iter++) {
      if (!(I > 0)) break;
      let delta = U / I;
      let cand = beta + delta;
      let llc = evaluate(cand);
      for (let h = 0; h < 40 && !(llc >= ll - 1e-12 * Math.abs(ll)); h++) {
        delta /= 2;
        cand = beta + delta;
        llc = evaluate(cand);
      }
      converged =
        Math.abs(delta) <= 1e-10 * (1 + Math.abs(cand)) ||
        Math.abs(llc - ll) <= 1e-15 * Math.abs(llc);
      beta = cand;
      ll = llc;
    }
    // U and I now belong to the final β. coxph's infinite-coefficient check: when the next Newton
    // step is still large against β, the log-likelihood flattened out on the way to ±∞ (monotone
    // likelihood) rather than at a maximum ("coefficient may be infinite"; eps 1e-9, toler.inf
    // √eps as in coxph.control).
    const nextStep = Math.abs(U / I);
    if (nextStep > 1e-9 && nextStep > Math.sqrt(1e-9) * Math.abs(beta)) converged = false;
    const se = 1 / Math.sqrt(I);
    const z = beta / se;
    out.coef[j] = beta;
    out.se[j] = se;
    out.z[j] = z;
    out.p[j] = normalTwoSidedP(z);
    out.negLog10P[j] = normalTwoSidedNegLog10P(z);
    out.converged[j] = converged ? 1 : 0;
  }
  return out;
}

/** Univariate Cox over all columns of a column-major matrix (n × p), on worker threads. */
export async function univariateCox(
  data: Float64Array,
  n: number,
  p: number,
  time: Float64Array,
  event: Uint8Array,
  ties: Ties,
  opts: { threads?: number; signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<UnivariateCox> {
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  // Small blocks: cheap progress, aborts between blocks, balanced threads.
  const per = Math.max(1, Math.min(2000, Math.ceil(p / (threads * 4))));
  const inputs: UnivariateBlock[] = [];
  for (let s = 0; s < p; s += per) {
    inputs.push({ x: data.slice(s * n, Math.min(p, s + per) * n), n, time, event, ties });
  }
  checkAbort(opts.signal);
  const parts = await parallelMap<UnivariateBlock, UnivariateCox>(
    __filename,
    'univariateCoxBlock',
    inputs,
    { threads, signal: opts.signal, onDone: (d, t) => opts.onProgress?.(d / t) },
  );
  const res: UnivariateCox = {
    coef: new Float64Array(p),
    se: new Float64Array(p),
    z: new Float64Array(p),
    p: new Float64Array(p),
    negLog10P: new Float64Array(p),
    converged: new Uint8Array(p),
  };
  let s = 0;
  for (const part of parts) {
    res.coef.set(part.coef, s);
    res.se.set(part.se, s);
    res.z.set(part.z, s);
    res.p.set(part.p, s);
    res.negLog10P.set(part.negLog10P, s);
    res.converged.set(part.converged, s);
    s += part.coef.length;
  }
  return res;
}
