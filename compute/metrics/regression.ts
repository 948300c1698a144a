/** Registered regression metrics (scikit-learn definitions; Pearson r as scipy.stats.pearsonr). */
import { type MetricDef } from '../core/method';
import { valuePrediction, valueTruth } from './types';

function metric(
  code: string,
  label: string,
  description: string,
  greaterIsBetter: boolean,
  f: (y: Float64Array, p: Float64Array) => number,
): MetricDef {
  return {
    kind: 'metric',
    code,
    label,
    description,
    reference: 'scikit-learn 1.2 sklearn.metrics; scipy.stats.pearsonr',
    tasks: ['continuous'],
    greaterIsBetter,
    needsScores: false,
    compute: (truth, prediction) => f(valueTruth(truth), valuePrediction(prediction)),
  };
}

export function mse(y: Float64Array, p: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - p[i]!) ** 2;
  return s / y.length;
}

export function mae(y: Float64Array, p: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i]! - p[i]!);
  return s / y.length;
}

/** 1 − SS_res / SS_tot; a constant truth gives 1 if predicted exactly, else 0 (sklearn). */
export function r2(y: Float64Array, p: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i]!;
  mean /= y.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < y.length; i++) {
    res += (y[i]! - p[i]!) ** 2;
    tot += (y[i]! - mean) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

export function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const d = Math.sqrt(sxx * syy);
  return d === 0 ? NaN : Math.max(-1, Math.min(1, sxy / d));
}

export const regressionMetrics: MetricDef[] = [
  metric('mse', 'MSE', 'Mean squared error.', false, mse),
  metric('rmse', 'RMSE', 'Root mean squared error.', false, (y, p) => Math.sqrt(mse(y, p))),
  metric('mae', 'MAE', 'Mean absolute error.', false, mae),
  metric('r2', 'R²', 'Coefficient of determination.', true, r2),
  metric(
    'pearson',
    'Pearson r',
    'Pearson correlation of predictions with the truth.',
    true,
    (y, p) => pearson(y, p),
  ),
];
