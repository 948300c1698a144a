/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011, NeurIPS), univariate as Optuna's
 * default TPESampler: after `nStartup` random trials, split completed trials at the γ-quantile of
 * the objective (γ(n) = min(⌈0.1·n⌉, 25) best trials as "good"), model each parameter's good and
 * bad values with truncated-Gaussian Parzen mixtures (plus a broad prior component; bandwidths from
 * neighbour distances, clipped to [range / min(100, 1 + m), range]), draw `nCandidates` from the
 * good density and keep the one maximising l(x) / g(x). Categorical parameters use smoothed counts.
 */
import { type Rng } from '../core/rng';
import { normalCdf } from '../stats/distributions';
import {
  bounds,
  fromInternal,
  sampleUniform,
  toInternal,
  type Dist,
  type Params,
  type ParamSpace,
} from './space';

export interface Observation {
  params: Params;
  /** Objective to maximise. */
  value: number;
}

export interface TpeOptions {
  nStartup?: number;
  nCandidates?: number;
}

export function gammaSplit(n: number): number {
  return Math.max(1, Math.min(Math.ceil(0.1 * n), 25));
}

export function suggestTpe(
  space: ParamSpace,
  history: readonly Observation[],
  rng: Rng,
  opts: TpeOptions = {},
): Params {
  const nStartup = opts.nStartup ?? 10;
  const nCand = opts.nCandidates ?? 24;
  const done = history.filter(h => Number.isFinite(h.value));
  const out: Params = {};
  if (done.length < nStartup) {
    for (const [name, d] of Object.entries(space)) out[name] = sampleUniform(d, rng);
    return out;
  }
  // Best first; ties keep trial order so the split is deterministic.
  const sorted = done.map((h, i) => ({ h, i })).sort((a, b) => b.h.value - a.h.value || a.i - b.i);
  const nGood = gammaSplit(done.length);
  const good = sorted.slice(0, nGood).map(x => x.h.params);
  const bad = sorted.slice(nGood).map(x => x.h.params);
  for (const [name, d] of Object.entries(space)) {
    out[name] =
      d.type === 'categorical'
        ? suggestCategorical(
            d,
            good.map(p => p[name]!),
            bad.map(p => p[name]!),
            rng,
            nCand,
          )
        : suggestNumeric(
            d,
            good.map(p => p[name] as number),
            bad.map(p => p[name] as number),
            rng,
            nCand,
          );
  }
  return out;
}

function suggestCategorical(
  d: Extract<Dist, { type: 'categorical' }>,
  good: readonly (string | number | boolean)[],
  bad: readonly (string | number | boolean)[],
  rng: Rng,
  nCand: number,
): string | number | boolean {
  const probs = (obs: readonly unknown[]): number[] => {
    const counts = d.choices.map(c => 1 + obs.filter(o => o === c).length);
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map(c => c / total);
  };
  const l = probs(good);
  const g = probs(bad);
  let best = -1;
  let bestScore = -Infinity;
  for (let c = 0; c < nCand; c++) {
    let u = rng.random();
    let j = 0;
    while (j < l.length - 1 && u >= l[j]!) u -= l[j++]!;
    const score = Math.log(l[j]!) - Math.log(g[j]!);
    if (score > bestScore) {
      bestScore = score;
      best = j;
    }
  }
  return d.choices[best]!;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

interface Parzen {
  mus: number[];
  sigmas: number[];
  weights: number[];
  /** log(weight) − log(σ√(2π)) − log(truncated mass), per component (independent of x). */
  logNorm: number[];
  low: number;
  high: number;
}

export function buildParzen(obs: readonly number[], low: number, high: number): Parzen {
  const range = high - low;
  const prior = { mu: (low + high) / 2, sigma: range };
  const comps = [...obs.map(mu => ({ mu, prior: false })), { mu: prior.mu, prior: true }].sort(
    (a, b) => a.mu - b.mu,
  );
  const m = comps.length;
  const minSigma = range / Math.min(100, 1 + m);
  const sigmas = comps.map((c, i) => {
    if (c.prior) return prior.sigma;
    const left = i > 0 ? c.mu - comps[i - 1]!.mu : -Infinity;
    const right = i < m - 1 ? comps[i + 1]!.mu - c.mu : -Infinity;
    const s = Math.max(left, right, 0);
    return Math.min(range, Math.max(minSigma, s));
  });
  const mus = comps.map(c => c.mu);
  const logNorm = mus.map((mu, i) => {
    const sg = sigmas[i]!;
    const mass = normalCdf((high - mu) / sg) - normalCdf((low - mu) / sg);
    return Math.log(1 / m) - LOG_SQRT_2PI - Math.log(sg) - Math.log(mass);
  });
  return { mus, sigmas, weights: comps.map(() => 1 / m), logNorm, low, high };
}

export function parzenLogPdf(p: Parzen, x: number): number {
  let max = -Infinity;
  const terms = p.mus.map((mu, i) => {
    const s = p.sigmas[i]!;
    const z = (x - mu) / s;
    const t = p.logNorm[i]! - 0.5 * z * z;
    if (t > max) max = t;
    return t;
  });
  if (max === -Infinity) return -Infinity;
  return max + Math.log(terms.reduce((a, t) => a + Math.exp(t - max), 0));
}

export function parzenSample(p: Parzen, rng: Rng): number {
  let u = rng.random();
  let i = 0;
  while (i < p.weights.length - 1 && u >= p.weights[i]!) u -= p.weights[i++]!;
  for (let tries = 0; tries < 100; tries++) {
    const x = p.mus[i]! + p.sigmas[i]! * rng.normal();
    if (x >= p.low && x <= p.high) return x;
  }
  return Math.min(p.high, Math.max(p.low, p.mus[i]!));
}

function suggestNumeric(
  d: Exclude<Dist, { type: 'categorical' }>,
  good: readonly number[],
  bad: readonly number[],
  rng: Rng,
  nCand: number,
): number {
  const [low, high] = bounds(d);
  if (!(high > low)) return fromInternal(d, low);
  const l = buildParzen(
    good.map(v => toInternal(d, v)),
    low,
    high,
  );
  const g = buildParzen(
    bad.map(v => toInternal(d, v)),
    low,
    high,
  );
  let best = l.mus[0]!;
  let bestScore = -Infinity;
  for (let c = 0; c < nCand; c++) {
    const x = parzenSample(l, rng);
    const score = parzenLogPdf(l, x) - parzenLogPdf(g, x);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  return fromInternal(d, best);
}
