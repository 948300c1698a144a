/**
 * Gradient boosting glue shared by the `gradient_boosting` selector and model: XGBoost parameter
 * names and defaults (1.7: learning_rate 0.3, max_depth 6, base_score 0.5, max_bin 256), the
 * validation split for early stopping, importance as `Booster.get_score(importance_type=…)`, and
 * the fitted model.
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { type Dataset, subsetSamples } from '../core/dataset';
import {
  type FittedModel,
  type ModelState,
  type Prediction,
  type RunContext,
} from '../core/method';
import { defaultThreads } from '../core/parallel';
import { type Rng } from '../core/rng';
import { binColumnsXgb } from './boosting-sketch';
import {
  type BoostFit,
  boostMargins,
  type BoostParams,
  fitBoosting,
  type Objective,
  transformMargins,
} from './boosting';
import { argmax } from './metrics';
import { alignedData, type Target, targetOf } from './rf';
import { type Tree, treeFromJson, type TreeJson, treeToJson } from './tree';

export const boostingArgs = {
  n_estimators: { type: 'integer', default: 100, min: 1, doc: 'Boosting rounds.' },
  learning_rate: {
    type: 'number',
    default: 0.3,
    min: 0,
    exclusiveMin: true,
    max: 1,
    doc: 'Shrinkage (eta).',
  },
  max_depth: { type: 'integer', default: 6, min: 0, doc: 'Maximum depth (0: unlimited).' },
  min_child_weight: {
    type: 'number',
    default: 1,
    min: 0,
    doc: 'Minimum hessian sum in a child.',
  },
  reg_lambda: { type: 'number', default: 1, min: 0, doc: 'L2 penalty on leaf weights.' },
  reg_alpha: { type: 'number', default: 0, min: 0, doc: 'L1 penalty on leaf weights.' },
  gamma: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'Minimum loss reduction for a split (min_split_loss).',
  },
  subsample: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    max: 1,
    doc: 'Per tree, each row is kept with this probability (XGBoost hist: a Bernoulli draw per row).',
  },
  colsample_bytree: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    max: 1,
    doc: 'Fraction of features drawn per tree.',
  },
  max_bin: {
    type: 'integer',
    default: 256,
    min: 2,
    max: 256,
    doc: 'Histogram bins per feature (at most 255 value bins; missing values get their own).',
  },
  objective: {
    type: 'enum',
    values: ['auto', 'binary:logistic', 'multi:softprob', 'reg:squarederror'],
    default: 'auto',
    doc: "Loss; 'auto' picks from the outcome (binary, multiclass, continuous).",
  },
  base_score: {
    type: 'number',
    default: 0.5,
    doc: 'Initial prediction (probability for binary:logistic), XGBoost 1.7 default 0.5.',
  },
  early_stopping_rounds: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    doc: 'Stop when the validation metric has not improved for this many rounds (null: off).',
  },
  validation_fraction: {
    type: 'number',
    default: 0.1,
    min: 0,
    exclusiveMin: true,
    max: 0.5,
    doc: 'Rows held out (stratified for classes) for early stopping.',
  },
} satisfies ArgSpecs;

export interface BoostingArgs {
  n_estimators: number;
  learning_rate: number;
  max_depth: number;
  min_child_weight: number;
  reg_lambda: number;
  reg_alpha: number;
  gamma: number;
  subsample: number;
  colsample_bytree: number;
  max_bin: number;
  objective: 'auto' | Objective;
  base_score: number;
  early_stopping_rounds: number | null;
  validation_fraction: number;
}

export type ImportanceType = 'gain' | 'weight' | 'cover' | 'total_gain' | 'total_cover';

export function resolveObjective(args: BoostingArgs, target: Target): Objective {
  const want: Objective =
    target.nClasses === 0
      ? 'reg:squarederror'
      : target.nClasses === 2
        ? 'binary:logistic'
        : 'multi:softprob';
  if (args.objective === 'auto') return want;
  const ok =
    args.objective === want || (args.objective === 'multi:softprob' && target.nClasses === 2);
  if (!ok) {
    throw new ArgumentError(
      'objective',
      `${args.objective} does not fit a ${target.nClasses === 0 ? 'continuous' : `${target.nClasses}-class`} outcome`,
    );
  }
  if (args.objective === 'binary:logistic' && !(args.base_score > 0 && args.base_score < 1)) {
    throw new ArgumentError('base_score', 'must be in (0, 1) for binary:logistic');
  }
  return args.objective;
}

/** Validation rows: a stratified (classes) or plain random fraction. */
export function validationSplit(
  target: Target,
  n: number,
  fraction: number,
  rng: Rng,
): { train: Int32Array; valid: Int32Array } {
  const groups: number[][] = [];
  if (target.labels) {
    for (let c = 0; c < target.nClasses; c++) groups.push([]);
    for (let i = 0; i < n; i++) groups[target.labels[i]!]!.push(i);
  } else groups.push(Array.from({ length: n }, (_, i) => i));
  const valid: number[] = [];
  for (const grp of groups) {
    const perm = rng.permutation(grp.length);
    const take = Math.round(fraction * grp.length);
    for (let a = 0; a < take; a++) valid.push(grp[perm[a]!]!);
  }
  const isValid = new Uint8Array(n);
  for (const i of valid) isValid[i] = 1;
  const train: number[] = [];
  for (let i = 0; i < n; i++) if (!isValid[i]) train.push(i);
  return { train: Int32Array.from(train), valid: Int32Array.from(valid).sort() };
}

export async function fitGradientBoosting(
  ds: Dataset,
  args: BoostingArgs,
  ctx: RunContext,
): Promise<{ fit: BoostFit; target: Target; objective: Objective; nTrain: number }> {
  const target = targetOf(ds);
  const objective = resolveObjective(args, target);
  let trainDs = ds;
  let validDs: Dataset | null = null;
  if (args.early_stopping_rounds !== null) {
    const split = validationSplit(
      target,
      ds.nSamples,
      args.validation_fraction,
      ctx.rng.fork(0x5eed),
    );
    trainDs = subsetSamples(ds, split.train);
    validDs = subsetSamples(ds, split.valid);
  }
  const trainTarget = targetOf(trainDs);
  ctx.progress(0, 'binning');
  // XGBoost's hist cuts (its quantile sketch), not the forests' equal-count bins: see
  // boosting-sketch.ts (identical when a feature has ≤ max_bin distinct values)
  const binned = await binColumnsXgb(
    trainDs.data,
    trainDs.nSamples,
    trainDs.nFeatures,
    args.max_bin,
    Math.max(1, ctx.threads ?? defaultThreads()),
  );
  const prm: BoostParams = {
    objective,
    nClasses: target.nClasses,
    nEstimators: args.n_estimators,
    learningRate: args.learning_rate,
    maxDepth: args.max_depth,
    minChildWeight: args.min_child_weight,
    regLambda: args.reg_lambda,
    regAlpha: args.reg_alpha,
    gamma: args.gamma,
    subsample: args.subsample,
    colsampleBytree: args.colsample_bytree,
    baseScore: args.base_score,
    earlyStoppingRounds: args.early_stopping_rounds,
  };
  const valid = validDs
    ? {
        raw: validDs.data,
        n: validDs.nSamples,
        labels: targetOf(validDs).labels,
        values: targetOf(validDs).values,
      }
    : null;
  const fit = await fitBoosting(binned, trainDs.data, trainTarget, valid, prm, ctx);
  return { fit, target, objective, nTrain: trainDs.nSamples };
}

/** XGBoost `get_score(importance_type)`: only features used in a split get a value. */
export function boostingImportance(trees: Tree[], p: number, type: ImportanceType): Float64Array {
  const weight = new Float64Array(p);
  const gain = new Float64Array(p);
  const cover = new Float64Array(p);
  for (const tree of trees) {
    for (let t = 0; t < tree.nNodes; t++) {
      const f = tree.feature[t]!;
      if (f < 0) continue;
      weight[f]++;
      gain[f] += tree.impurity[t]!;
      cover[f] += tree.weight[t]!;
    }
  }
  const out = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const w = weight[j]!;
    if (w === 0) continue;
    out[j] =
      type === 'weight'
        ? w
        : type === 'gain'
          ? gain[j]! / w
          : type === 'cover'
            ? cover[j]! / w
            : type === 'total_gain'
              ? gain[j]!
              : cover[j]!;
  }
  return out;
}

export class GradientBoostingModel implements FittedModel {
  readonly code = 'gradient_boosting';
  constructor(
    readonly featureNames: string[],
    readonly trees: Tree[],
    readonly nGroups: number,
    readonly baseMargin: number,
    readonly objective: Objective,
    readonly classes: string[],
    readonly params: Record<string, unknown>,
    readonly bestIteration: number,
  ) {}

  margins(ds: Dataset): Float64Array {
    const x = alignedData(ds, this.featureNames);
    return boostMargins(this.trees, this.nGroups, this.baseMargin, x, ds.nSamples);
  }

  predict(ds: Dataset): Prediction {
    const n = ds.nSamples;
    const out = transformMargins(this.objective, this.margins(ds), this.nGroups);
    if (this.objective === 'reg:squarederror') return { kind: 'value', values: out };
    const K = this.classes.length;
    let proba: Float64Array;
    if (this.objective === 'binary:logistic') {
      proba = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        proba[2 * i] = 1 - out[i]!;
        proba[2 * i + 1] = out[i]!;
      }
    } else proba = out;
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = argmax(proba, i * K, K);
    return { kind: 'class', labels, proba, classes: this.classes };
  }

  /** Normalised gain importance (XGBoost's sklearn `feature_importances_`). */
  importance(): Record<string, number> {
    const imp = boostingImportance(this.trees, this.featureNames.length, 'gain');
    const s = imp.reduce((a, b) => a + b, 0);
    const out: Record<string, number> = {};
    this.featureNames.forEach((f, j) => (out[f] = s > 0 ? imp[j]! / s : 0));
    return out;
  }

  save(): ModelState {
    return {
      code: this.code,
      version: 1,
      featureNames: this.featureNames,
      params: this.params,
      state: {
        nGroups: this.nGroups,
        baseMargin: this.baseMargin,
        objective: this.objective,
        classes: this.classes,
        bestIteration: this.bestIteration,
        trees: this.trees.map(treeToJson),
      },
    };
  }

  static load(s: ModelState): GradientBoostingModel {
    if (s.code !== 'gradient_boosting' || s.version !== 1) {
      throw new Error(`cannot load ${s.code} v${s.version} as gradient_boosting v1`);
    }
    const st = s.state as {
      nGroups: number;
      baseMargin: number;
      objective: Objective;
      classes: string[];
      bestIteration: number;
      trees: TreeJson[];
    };
    return new GradientBoostingModel(
      s.featureNames,
      st.trees.map(treeFromJson),
      st.nGroups,
      st.baseMargin,
      st.objective,
      st.classes,
      s.params,
      st.bestIteration,
    );
  }
}
