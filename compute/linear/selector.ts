/**
 * The shared run function of the glmnet-style selectors (`lasso`, `elastic_net`, `ridge`).
 *
 * - Family from the outcome: continuous → Gaussian, binary → binomial, multiclass → multinomial.
 * - `alpha` fixed: one fit at that penalty. `alpha` null: cv.glmnet over an automatic path of
 *   `n_alphas` values down to eps·alpha_max, seeded stratified folds (ctx.rng), `lambda_rule`
 *   picks lambda.min or lambda.1se.
 * - Score = |coefficient on the standardised scale| (β_j·sd_j whatever `standardize` is);
 *   multiclass: the L2 norm over the per-class coefficients. Own rule: the non-zero
 *   coefficients (ridge: every usable feature, so give k).
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorResult } from '../core/method';
import { defaultThreads } from '../core/parallel';
import { rankAndSelect } from '../core/select';
import { defaultStrata, stratifiedAssignment } from '../resampling/strata';
import { initAccelBackend } from './accel';
import { assertNoMissing } from './model';
import { type CvCurve, cvElnet } from './cv';
import { type ElnetFit, type ElnetOptions, fitElnet, type Target } from './elnet';
import { DEFAULT_CONTROL, originalScale, workingScale } from './path';

export interface PenalisedArgs {
  alpha: number | null;
  l1_ratio?: number;
  cv: number;
  lambda_rule: 'min' | '1se';
  standardize: boolean;
  max_iter: number;
  tol: number;
  n_alphas: number;
  eps: number;
}

export const penalisedArgs = {
  alpha: {
    type: 'number',
    default: null,
    nullable: true,
    min: 0,
    doc:
      'Penalty on the mean loss (glmnet lambda, scikit-learn alpha). null: chosen by k-fold CV ' +
      'over an automatic path.',
  },
  cv: {
    type: 'integer',
    default: 10,
    min: 3,
    doc: 'Folds for choosing alpha (cv.glmnet default 10; stratified by class, seeded).',
  },
  lambda_rule: {
    type: 'enum',
    values: ['min', '1se'],
    default: 'min',
    doc: 'CV choice: min = lowest CV loss (lambda.min); 1se = sparsest within one SE (lambda.1se).',
  },
  standardize: {
    type: 'boolean',
    default: true,
    doc: 'Penalise the standardised features (population sd, glmnet convention).',
  },
  max_iter: {
    type: 'integer',
    default: 100000,
    min: 1,
    doc: 'Maximum total coordinate-descent passes over the whole path (glmnet maxit).',
  },
  tol: {
    type: 'number',
    default: 1e-7,
    min: 0,
    exclusiveMin: true,
    doc: 'Convergence threshold relative to the null deviance (glmnet thresh).',
  },
  n_alphas: {
    type: 'integer',
    default: 100,
    min: 2,
    doc: 'Length of the automatic path (glmnet nlambda).',
  },
  eps: {
    type: 'number',
    default: 1e-3,
    min: 0,
    max: 1,
    exclusiveMin: true,
    doc: 'Smallest alpha on the path as a fraction of alpha_max (lambda.min.ratio).',
  },
} satisfies ArgSpecs;

export const l1RatioArg = {
  type: 'number',
  default: 0.5,
  min: 0,
  max: 1,
  doc: 'Mix of the l1 and l2 penalties (glmnet alpha): 1 = lasso, 0 = ridge.',
} as const;

/** The response as a solver target, or an error for unsupported outcomes. */
export function targetOf(ds: Dataset): Target {
  const o = ds.outcome;
  switch (o.kind) {
    case 'continuous':
      // A constant response has lambda_max = 0 and no path (glmnet: "y is constant").
      if (o.values.every(v => v === o.values[0]))
        throw new Error(
          `the continuous outcome is constant (every value ${o.values[0]}): nothing to fit`,
        );
      return { family: 'gaussian', y: o.values };
    case 'binary':
      return { family: 'binomial', y: o.labels };
    case 'multiclass':
      return { family: 'multinomial', y: o.labels, nClasses: o.classes.length };
    default:
      throw new Error(
        `penalised linear selectors need a continuous, binary or multiclass outcome, got ${o.kind}`,
      );
  }
}

/** Seeded fold ids (0..k−1), stratified by class for class outcomes. */
export function foldIds(ds: Dataset, k: number, ctx: RunContext): Int32Array {
  if (k > ds.nSamples) throw new Error(`cv = ${k} folds needs at least ${k} samples`);
  return stratifiedAssignment(defaultStrata(ds), k, ctx.rng.fork(0));
}

function notConverged(args: Pick<PenalisedArgs, 'max_iter'>): Error {
  return new Error(`coordinate descent did not converge within max_iter = ${args.max_iter} passes`);
}

/**
 * Index of the fit at a fixed alpha: the last point of the warm-start route (fitElnet `warmTo`);
 * throws when max_iter stopped the route before it reached alpha.
 */
export function fixedAlphaIndex(
  fit: ElnetFit,
  args: Pick<PenalisedArgs, 'alpha' | 'max_iter'>,
): number {
  const m = fit.fit.lambdas.length - 1;
  if (m < 0 || fit.fit.lambdas[m] !== args.alpha) throw notConverged(args);
  return m;
}

/**
 * Score per feature: the standardised effect β_j·sd_j (equal to the working coefficient when
 * standardize = true); multiclass: the L2 norm over the classes. `beta` is original-scale,
 * K blocks of p.
 */
export function penalisedScores(
  beta: Float64Array,
  sd: Float64Array,
  p: number,
  K: number,
): Float64Array {
  const scores = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let c = 0; c < K; c++) {
      const b = beta[c * p + j]! * sd[j]!;
      s += b * b;
    }
    scores[j] = Math.sqrt(s);
  }
  return scores;
}

export async function runPenalised(
  ds: Dataset,
  args: PenalisedArgs,
  l1Ratio: number,
  ctx: RunContext,
  k: number | undefined,
  ownRuleKeepsAll: boolean,
  code = 'penalised linear selection',
): Promise<SelectorResult> {
  // Name the incomplete feature here: the design builder (and fold workers) only see indices.
  assertNoMissing(ds, code);
  const n = ds.nSamples;
  const p = ds.nFeatures;
  const target = targetOf(ds);
  const opts: ElnetOptions = {
    l1Ratio,
    nLambda: args.n_alphas,
    eps: args.eps,
    standardize: args.standardize,
    intercept: true,
    control: { ...DEFAULT_CONTROL, tol: args.tol, maxIter: args.max_iter, signal: ctx.signal },
  };
  ctx.progress(0, 'start');
  if (opts.control.accel !== false) await initAccelBackend(n * p);
  let fit: ElnetFit;
  let m: number;
  let curve: CvCurve | null = null;
  if (args.alpha !== null) {
    fit = fitElnet(ds.data, n, p, null, target, { ...opts, warmTo: args.alpha });
    m = fixedAlphaIndex(fit, args);
  } else {
    const foldid = foldIds(ds, args.cv, ctx);
    const res = await cvElnet(ds.data, n, p, target, opts, foldid, {
      threads: ctx.threads ?? defaultThreads(),
      signal: ctx.signal,
      progress: ctx.progress,
    });
    fit = res.full;
    curve = res.curve;
    m = args.lambda_rule === 'min' ? curve.indexMin : curve.index1se;
  }
  checkAbort(ctx.signal);
  if (fit.fit.lambdas.length === 0) throw notConverged(args);
  const K = fit.fit.nClasses;
  const std = workingScale(fit.fit, p, m);
  const { beta, intercept } = originalScale(fit.fit, fit.scale, m);
  const scores = penalisedScores(beta, fit.scale.sd, p, K);
  const usable = fit.scale.usable;
  const nonzero = (j: number): boolean => {
    for (let c = 0; c < K; c++) if (std[c * p + j] !== 0) return true;
    return false;
  };
  const ranked = rankAndSelect(ds, scores, k, j =>
    ownRuleKeepsAll ? usable[j] === 1 : nonzero(j),
  );
  const classes =
    ds.outcome.kind === 'multiclass' || ds.outcome.kind === 'binary' ? ds.outcome.classes : null;
  const coefStd: Record<string, number | number[]> = {};
  const coefOrig: Record<string, number | number[]> = {};
  for (let j = 0; j < p; j++) {
    if (!nonzero(j)) continue;
    const name = ds.featureNames[j]!;
    if (K === 1) {
      coefStd[name] = std[j]!;
      coefOrig[name] = beta[j]!;
    } else {
      coefStd[name] = Array.from({ length: K }, (_, c) => std[c * p + j]!);
      coefOrig[name] = Array.from({ length: K }, (_, c) => beta[c * p + j]!);
    }
  }
  const chosen = fit.fit.lambdas[m] ?? args.alpha;
  ctx.progress(1, 'done');
  return {
    selected: ranked.selected,
    scores: ranked.scores,
    params: {
      ...args,
      l1_ratio: l1Ratio,
      alpha: chosen,
      family: target.family,
    },
    diagnostics: {
      family: target.family,
      chosen_alpha: chosen,
      lambda_rule: args.alpha === null ? args.lambda_rule : 'fixed',
      path_length: fit.fit.lambdas.length,
      iterations: fit.fit.passes,
      converged: fit.fit.converged,
      n_nonzero: Object.keys(coefStd).length,
      dev_ratio: fit.fit.devRatio[m] ?? null,
      intercept: K === 1 ? intercept[0] : Array.from(intercept),
      classes,
      coefficients: coefStd,
      coefficients_original: coefOrig,
      cv: curve
        ? {
            measure: target.family === 'gaussian' ? 'mse' : 'deviance',
            folds: args.cv,
            alphas: Array.from(curve.lambdas),
            cvm: Array.from(curve.cvm),
            cvsd: Array.from(curve.cvsd),
            nzero: Array.from(curve.nzero),
            alpha_min: curve.lambdas[curve.indexMin],
            alpha_1se: curve.lambdas[curve.index1se],
          }
        : null,
    },
    backend: 'float64',
  };
}
