/**
 * Ridge selection: l2-penalised linear / logistic / multinomial regression (glmnet, l1_ratio = 0).
 * Ridge keeps every coefficient non-zero, so its own rule keeps all features ranked by
 * |standardised coefficient|: give k.
 */
import { type SelectorDef } from '../core/method';
import { type PenalisedArgs, penalisedArgs, runPenalised } from '../linear/selector';

export const ridgeSelector: SelectorDef<PenalisedArgs> = {
  kind: 'selector',
  code: 'ridge',
  label: 'Ridge (l2-penalised regression)',
  description:
    'glmnet ridge: Gaussian, logistic or multinomial by outcome; features standardised; alpha ' +
    'fixed or chosen by k-fold CV. Ranks features by |standardised coefficient|; every ' +
    'coefficient is non-zero, so the own rule keeps all features: give k.',
  reference:
    'Hoerl & Kennard (1970) Technometrics 12:55; Friedman, Hastie & Tibshirani (2010) J Stat ' +
    'Softw 33(1) (R glmnet, alpha = 0)',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: penalisedArgs,
  run: (ds, args, ctx, k) => runPenalised(ds, args, 0, ctx, k, true, 'ridge'),
};
