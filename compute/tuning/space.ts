/**
 * Search spaces: what a tuner may vary and how. Syntax mirrors Optuna's distributions (float,
 * log-float, int, categorical). Default spaces per model follow OmicSelector2's
 * `training/hyperparameter.py` (RF, XGBoost → gradient_boosting, logistic regression) plus SVM,
 * kNN and penalised linear models; each is filtered by the model's own ArgSpecs so a parameter
 * the model does not declare is never proposed.
 */
import { type ArgSpecs } from '../core/args';
import { type Rng } from '../core/rng';

export type Dist =
  | { type: 'float'; low: number; high: number; log?: boolean }
  | { type: 'int'; low: number; high: number; log?: boolean }
  | { type: 'categorical'; choices: readonly (string | number | boolean)[] };

export type ParamSpace = Record<string, Dist>;
export type Params = Record<string, string | number | boolean>;

export const DEFAULT_SPACES: Record<string, ParamSpace> = {
  random_forest: {
    n_estimators: { type: 'int', low: 50, high: 500 },
    max_depth: { type: 'int', low: 3, high: 20 },
    min_samples_split: { type: 'int', low: 2, high: 20 },
    min_samples_leaf: { type: 'int', low: 1, high: 10 },
    max_features: { type: 'categorical', choices: ['sqrt', 'log2'] },
  },
  gradient_boosting: {
    n_estimators: { type: 'int', low: 50, high: 500 },
    max_depth: { type: 'int', low: 3, high: 10 },
    learning_rate: { type: 'float', low: 0.001, high: 0.3, log: true },
    subsample: { type: 'float', low: 0.6, high: 1 },
    colsample_bytree: { type: 'float', low: 0.6, high: 1 },
  },
  logistic_regression: {
    C: { type: 'float', low: 0.001, high: 100, log: true },
    penalty: { type: 'categorical', choices: ['l1', 'l2'] },
  },
  svm: {
    C: { type: 'float', low: 0.01, high: 100, log: true },
    gamma: { type: 'float', low: 1e-4, high: 1, log: true },
    kernel: { type: 'categorical', choices: ['rbf', 'linear'] },
  },
  linear_svm: { C: { type: 'float', low: 0.001, high: 100, log: true } },
  knn: {
    n_neighbors: { type: 'int', low: 1, high: 30 },
    weights: { type: 'categorical', choices: ['uniform', 'distance'] },
  },
  ridge: { alpha: { type: 'float', low: 1e-3, high: 1e3, log: true } },
  linear_regression: {},
};

/**
 * Keep the parameters the model declares; clamp numeric ranges to its min/max and categorical
 * choices to its enum values. Drops anything that cannot be proposed.
 */
export function fitSpaceToArgs(space: ParamSpace, args: ArgSpecs): ParamSpace {
  const out: ParamSpace = {};
  for (const [name, d] of Object.entries(space)) {
    const spec = args[name];
    if (!spec) continue;
    if (d.type === 'categorical') {
      const choices =
        spec.type === 'enum' ? d.choices.filter(c => spec.values.includes(String(c))) : d.choices;
      if (choices.length > 0) out[name] = { type: 'categorical', choices };
      continue;
    }
    if (spec.type !== 'number' && spec.type !== 'integer') continue;
    const low = spec.min !== undefined ? Math.max(d.low, spec.min) : d.low;
    const high = spec.max !== undefined ? Math.min(d.high, spec.max) : d.high;
    if (low > high) continue;
    out[name] = { ...d, type: spec.type === 'integer' ? 'int' : d.type, low, high };
  }
  return out;
}

export function defaultSpace(modelCode: string, args: ArgSpecs): ParamSpace {
  return fitSpaceToArgs(DEFAULT_SPACES[modelCode] ?? {}, args);
}

export function validateSpace(space: ParamSpace): void {
  for (const [name, d] of Object.entries(space)) {
    if (d.type === 'categorical') {
      if (d.choices.length === 0) throw new Error(`search space ${name}: no choices`);
    } else if (!(d.low <= d.high) || (d.log && d.low <= 0)) {
      throw new Error(`search space ${name}: need low ≤ high${d.log ? ' and low > 0 (log)' : ''}`);
    }
  }
}

/** Uniform draw (log-uniform for log distributions; ints inclusive). */
export function sampleUniform(d: Dist, rng: Rng): string | number | boolean {
  if (d.type === 'categorical') return d.choices[rng.int(d.choices.length)]!;
  const [a, b] = bounds(d);
  return fromInternal(d, a + rng.random() * (b - a));
}

/**
 * The continuous internal space TPE works in: log for log distributions, and for ints a range
 * widened by ½ on each side so rounding gives every integer the same mass.
 */
export function bounds(d: Exclude<Dist, { type: 'categorical' }>): [number, number] {
  const pad = d.type === 'int' ? 0.5 : 0;
  const lo = d.low - pad;
  const hi = d.high + pad;
  return d.log ? [Math.log(Math.max(lo, d.low / 2)), Math.log(hi)] : [lo, hi];
}

export function toInternal(d: Exclude<Dist, { type: 'categorical' }>, v: number): number {
  return d.log ? Math.log(v) : v;
}

export function fromInternal(d: Exclude<Dist, { type: 'categorical' }>, x: number): number {
  let v = d.log ? Math.exp(x) : x;
  if (d.type === 'int') v = Math.round(v);
  return Math.min(d.high, Math.max(d.low, v));
}
