/**
 * Elastic-net selection: l1 + l2 penalised linear / logistic / multinomial regression (glmnet)
 * with the penalty fixed or chosen by k-fold CV; keeps the non-zero coefficients.
 */
import { type SelectorDef } from '../core/method';
import { l1RatioArg, type PenalisedArgs, penalisedArgs, runPenalised } from '../linear/selector';

export type ElasticNetArgs = PenalisedArgs & { l1_ratio: number };

export const elasticNet: SelectorDef<ElasticNetArgs> = {
  kind: 'selector',
  code: 'elastic_net',
  label: 'Elastic net',
  description:
    'glmnet elastic net (l1_ratio mixes lasso and ridge): Gaussian, logistic or multinomial by ' +
    'outcome; features standardised; alpha fixed or chosen by k-fold CV (lambda.min / ' +
    'lambda.1se). Score = |standardised coefficient|; own rule = non-zero coefficients.',
  reference:
    'Zou & Hastie (2005) JRSS-B 67:301; Friedman, Hastie & Tibshirani (2010) J Stat Softw 33(1) ' +
    '(R glmnet); scikit-learn ElasticNet parameter names',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: { ...penalisedArgs, l1_ratio: l1RatioArg },
  run: (ds, args, ctx, k) => runPenalised(ds, args, args.l1_ratio, ctx, k, false, 'elastic_net'),
};
