/**
 * Lasso selection: l1-penalised linear / logistic / multinomial regression (glmnet, l1_ratio = 1)
 * with the penalty fixed or chosen by k-fold CV; keeps the non-zero coefficients.
 */
import { type SelectorDef } from '../core/method';
import { type PenalisedArgs, penalisedArgs, runPenalised } from '../linear/selector';

export const lasso: SelectorDef<PenalisedArgs> = {
  kind: 'selector',
  code: 'lasso',
  label: 'Lasso (l1-penalised regression)',
  description:
    'glmnet lasso: Gaussian for a continuous outcome, logistic for two classes, multinomial for ' +
    'more; features standardised; alpha fixed or chosen by k-fold CV (lambda.min / lambda.1se). ' +
    'Score = |standardised coefficient|; own rule = non-zero coefficients.',
  reference:
    'Tibshirani (1996) JRSS-B 58:267; Friedman, Hastie & Tibshirani (2010) J Stat Softw 33(1) ' +
    '(R glmnet); scikit-learn Lasso / LassoCV parameter names',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: penalisedArgs,
  run: (ds, args, ctx, k) => runPenalised(ds, args, 1, ctx, k, false, 'lasso'),
};
