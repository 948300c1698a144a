/**
 * Robustness sweep (issues #4/#5), models: the CLI's parsing, fit, predict on the same rows,
 * save → JSON → load → predict (identical), a second fit with the same seed (identical);
 * predictions finite, probabilities in [0, 1] summing to 1. Expectations: expect.ts.
 */
import { sweepModels } from './sweep';

describe('models on awkward data', () => {
  sweepModels([
    'logistic_regression',
    'linear_regression',
    'ridge',
    'linear_svm',
    'random_forest',
    'gradient_boosting',
    'cox',
    'svm',
    'knn',
  ]);
});
