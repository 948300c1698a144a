/**
 * Cox proportional-hazards selection for survival outcomes (CLI: --time col --event col).
 *
 * `penalty = 'none'` (default): one univariate Cox model per feature (Efron ties by default, as
 * survival::coxph): coefficient, hazard ratio, Wald z and two-sided p, Benjamini–Hochberg adjusted
 * p. Score = −log10 p; own rule keeps adjusted p ≤ alpha (alpha = 0.05 when null).
 *
 * `penalty = 'lasso' | 'elastic_net'`: glmnet family = "cox" (Breslow ties) with `l1_ratio`
 * (glmnet's alpha; lasso = 1) and `alpha` = glmnet's lambda on −ℓ/n; alpha null = chosen by
 * `cv`-fold cross-validation of the partial-likelihood deviance (lambda.min or lambda.1se).
 * Score = |coefficient| on the standardised scale; own rule keeps the non-zero coefficients.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorDef, type SelectorResult } from '../core/method';
import { rankAndSelect } from '../core/select';
import {
  coxnetCv,
  coxnetPath,
  lambdaPath,
  standardizeRows,
  type CoxnetPath,
} from '../survival/coxnet';
import { bhAdjust } from '../survival/normal';
import { survivalOutcome } from '../survival/risk-sets';
import { univariateCox } from '../survival/univariate';
import { assertComplete } from './mrmr';

const coxArgs = {
  penalty: {
    type: 'enum',
    values: ['none', 'lasso', 'elastic_net'],
    default: 'none',
    doc: "none: univariate Cox per feature; lasso / elastic_net: penalised Cox (glmnet family='cox').",
  },
  alpha: {
    type: 'number',
    default: null,
    nullable: true,
    min: 0,
    doc:
      "penalty 'none': BH-adjusted p-value threshold of the own rule (null → 0.05). " +
      "Penalised: glmnet's lambda on the mean partial log-likelihood (null → chosen by CV).",
  },
  l1_ratio: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    exclusiveMin: true,
    doc: "Elastic-net mixing (glmnet's alpha); lasso uses 1.",
  },
  ties: {
    type: 'enum',
    values: ['efron', 'breslow'],
    default: 'efron',
    doc: 'Tied event times in the univariate fits (penalised fits use Breslow, as glmnet).',
  },
  cv: { type: 'integer', default: 10, min: 3, doc: 'CV folds when alpha is null (penalised).' },
  lambda_rule: {
    type: 'enum',
    values: ['min', '1se'],
    default: 'min',
    doc: 'CV choice: lambda.min or lambda.1se (largest lambda within one SE of the minimum).',
  },
  n_alphas: { type: 'integer', default: 100, min: 1, doc: 'Path length for CV.' },
  alpha_min_ratio: {
    type: 'number',
    default: null,
    nullable: true,
    min: 0,
    exclusiveMin: true,
    doc: 'Smallest / largest lambda on the path (null: 0.01 if n < p else 1e-4, as glmnet).',
  },
  standardize: {
    type: 'boolean',
    default: true,
    doc: 'Standardise features before penalising (coefficients reported on both scales).',
  },
} satisfies ArgSpecs;

export interface CoxSelectorArgs {
  penalty: 'none' | 'lasso' | 'elastic_net';
  alpha: number | null;
  l1_ratio: number;
  ties: 'efron' | 'breslow';
  cv: number;
  lambda_rule: 'min' | '1se';
  n_alphas: number;
  alpha_min_ratio: number | null;
  standardize: boolean;
}

const byName = (ds: Dataset, v: ArrayLike<number>): Record<string, number> =>
  Object.fromEntries(ds.featureNames.map((f, j) => [f, v[j]!]));

async function univariate(
  ds: Dataset,
  args: CoxSelectorArgs,
  ctx: RunContext,
  k: number | undefined,
): Promise<SelectorResult> {
  const { time, event } = survivalOutcome(ds.outcome);
  const level = args.alpha ?? 0.05;
  const res = await univariateCox(ds.data, ds.nSamples, ds.nFeatures, time, event, args.ties, {
    threads: ctx.threads,
    signal: ctx.signal,
    onProgress: f => ctx.progress(f * 0.95, 'univariate Cox'),
  });
  const adj = bhAdjust(res.p);
  const ranked = rankAndSelect(ds, res.negLog10P, k, j => adj[j]! <= level);
  ctx.progress(1, 'done');
  const notConverged = ds.featureNames.filter(
    (_, j) => !res.converged[j] && !Number.isNaN(res.coef[j]!),
  );
  return {
    selected: ranked.selected,
    scores: ranked.scores,
    params: { penalty: 'none', alpha: level, ties: args.ties, k: k ?? null },
    diagnostics: {
      coef: byName(ds, res.coef),
      hazard_ratio: byName(ds, res.coef.map(Math.exp)),
      se: byName(ds, res.se),
      z: byName(ds, res.z),
      p_value: byName(ds, res.p),
      p_adjusted: byName(ds, adj),
      score: '-log10(p)',
      not_converged: notConverged,
    },
    backend: 'float64',
  };
}

async function penalised(
  ds: Dataset,
  args: CoxSelectorArgs,
  ctx: RunContext,
  k: number | undefined,
): Promise<SelectorResult> {
  const { time, event } = survivalOutcome(ds.outcome);
  const n = ds.nSamples;
  const p = ds.nFeatures;
  const l1Ratio = args.penalty === 'lasso' ? 1 : args.l1_ratio;
  const diagnostics: Record<string, unknown> = {};
  let lambda = args.alpha;
  let path: Pick<CoxnetPath, 'beta' | 'betaStd' | 'iterations' | 'converged'>;
  if (lambda === null) {
    ctx.progress(0, 'cross-validation');
    const cv = await coxnetCv(
      ds.data,
      n,
      p,
      time,
      event,
      {
        l1Ratio,
        standardize: args.standardize,
        nLambda: args.n_alphas,
        lambdaMinRatio: args.alpha_min_ratio,
        nFolds: args.cv,
        threads: ctx.threads,
        signal: ctx.signal,
      },
      ctx.rng,
      f => ctx.progress(f * 0.8, 'cross-validation'),
    );
    lambda = args.lambda_rule === 'min' ? cv.lambdaMin : cv.lambda1se;
    Object.assign(diagnostics, {
      alphas: Array.from(cv.lambdas),
      cv_deviance: Array.from(cv.cvm),
      cv_deviance_se: Array.from(cv.cvsd),
      alpha_min: cv.lambdaMin,
      alpha_1se: cv.lambda1se,
    });
    const index = args.lambda_rule === 'min' ? cv.indexMin : cv.index1se;
    path = {
      beta: [cv.path.beta[index]!],
      betaStd: [cv.path.betaStd[index]!],
      iterations: [cv.path.iterations[index]!],
      converged: [cv.path.converged[index]!],
    };
  } else {
    // A short warm-start path from λ_max down to the requested λ is faster and steadier than a
    // cold start at a small λ; tight tolerance so coefficients agree with glmnet to ~1e-6.
    const { xs } = standardizeRows(ds.data, n, p, null, args.standardize);
    const lmax = lambdaPath(xs, n, p, time, event, l1Ratio, 1, null)[0]!;
    const target = lambda;
    const lambdas =
      target >= lmax
        ? [target]
        : Array.from({ length: 20 }, (_, i) => lmax * Math.pow(target / lmax, i / 19));
    checkAbort(ctx.signal);
    ctx.progress(0.1, 'fit');
    path = coxnetPath(ds.data, n, p, time, event, {
      l1Ratio,
      standardize: args.standardize,
      lambdas,
      tol: 1e-10,
      signal: ctx.signal,
    });
  }
  const last = path.beta.length - 1;
  const coef = path.beta[last]!;
  const coefStd = path.betaStd[last]!;
  const score = coefStd.map(Math.abs);
  const ranked = rankAndSelect(ds, score, k, j => coef[j] !== 0);
  ctx.progress(1, 'done');
  return {
    selected: ranked.selected,
    scores: ranked.scores,
    params: {
      penalty: args.penalty,
      alpha: lambda,
      l1_ratio: l1Ratio,
      standardize: args.standardize,
      lambda_rule: args.alpha === null ? args.lambda_rule : null,
      cv: args.alpha === null ? args.cv : null,
      k: k ?? null,
    },
    diagnostics: {
      ...diagnostics,
      coef: byName(ds, coef),
      coef_standardized: byName(ds, coefStd),
      nonzero: coef.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0),
      iterations: path.iterations[last],
      converged: path.converged[last],
      ties: 'breslow',
    },
    backend: 'float64',
  };
}

export const cox: SelectorDef<CoxSelectorArgs> = {
  kind: 'selector',
  code: 'cox',
  label: 'Cox regression (univariate or penalised)',
  description:
    'Univariate Cox proportional-hazards per feature (Wald p, BH-adjusted) or lasso / elastic-net ' +
    'penalised Cox with glmnet family="cox" semantics and CV-chosen or fixed penalty.',
  reference:
    'Cox (1972) JRSS-B 34:187; Efron (1977) JASA 72:557; Simon et al. (2011) J Stat Softw 39(5); ' +
    'R survival::coxph, glmnet family="cox"',
  tasks: ['survival'],
  device: 'cpu',
  args: coxArgs,
  async run(ds, args, ctx, k) {
    assertComplete(ds, 'cox');
    survivalOutcome(ds.outcome);
    return args.penalty === 'none' ? univariate(ds, args, ctx, k) : penalised(ds, args, ctx, k);
  },
};
