/**
 * Random forest glue shared by the `random_forest` selector and model: argument specs with
 * scikit-learn names, dataset → binned matrix + target, and the fitted model (predict, save, load).
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { type Dataset, selectFeaturesByName } from '../core/dataset';
import {
  type FittedModel,
  type ModelState,
  type Prediction,
  type RunContext,
} from '../core/method';
import { defaultThreads } from '../core/parallel';
import { binColumns } from './binning';
import { type CartParams, type Criterion } from './cart';
import { fitForest, type ForestFit, forestPredict } from './forest';
import { argmax } from './metrics';
import { type Tree, treeFromJson, type TreeJson, treeToJson } from './tree';

export const forestArgs = {
  n_estimators: { type: 'integer', default: 100, min: 1, doc: 'Number of trees (sklearn: 100).' },
  criterion: {
    type: 'enum',
    values: ['auto', 'gini', 'entropy', 'squared_error'],
    default: 'auto',
    doc: "Split criterion; 'auto' = gini for classes, squared_error for a continuous outcome.",
  },
  max_depth: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    doc: 'Maximum tree depth (null: grow until leaves are pure or too small).',
  },
  min_samples_split: {
    type: 'integer',
    default: 2,
    min: 2,
    doc: 'Minimum samples in a node to split it.',
  },
  min_samples_leaf: { type: 'integer', default: 1, min: 1, doc: 'Minimum samples in a leaf.' },
  max_features: {
    type: 'string',
    default: 'auto',
    doc: "Features drawn per split: 'auto' (sqrt for classes, 1/3 for continuous — ranger/randomForest convention), 'sqrt', 'log2', 'all', an integer count, or a fraction such as 0.2.",
  },
  bootstrap: { type: 'boolean', default: true, doc: 'Draw a bootstrap sample per tree.' },
  class_weight: {
    type: 'enum',
    values: ['none', 'balanced'],
    default: 'none',
    doc: "'balanced': weight classes by n / (n_classes · count) (sklearn).",
  },
  oob_score: {
    type: 'boolean',
    default: false,
    doc: 'Compute the out-of-bag accuracy (classes) or R² (continuous).',
  },
  min_impurity_decrease: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'A split must decrease weighted impurity by at least this (sklearn).',
  },
  max_bin: {
    type: 'integer',
    default: 256,
    min: 2,
    max: 256,
    doc: 'Histogram bins per feature (at most 255 value bins; missing values get their own).',
  },
} satisfies ArgSpecs;

export interface ForestArgs {
  n_estimators: number;
  criterion: 'auto' | Criterion;
  max_depth: number | null;
  min_samples_split: number;
  min_samples_leaf: number;
  max_features: string;
  bootstrap: boolean;
  class_weight: 'none' | 'balanced';
  oob_score: boolean;
  min_impurity_decrease: number;
  max_bin: number;
}

export interface Target {
  nClasses: number;
  labels: Int32Array | null;
  values: Float64Array | null;
  classes: string[];
}

export function targetOf(ds: Dataset): Target {
  const o = ds.outcome;
  if (o.kind === 'binary' || o.kind === 'multiclass') {
    return { nClasses: o.classes.length, labels: o.labels, values: null, classes: o.classes };
  }
  if (o.kind === 'continuous') return { nClasses: 0, labels: null, values: o.values, classes: [] };
  throw new Error(`tree methods need a class or continuous outcome, got ${o.kind}`);
}

/** max_features → features per split (sklearn rounding: max(1, int(·))). */
export function resolveMaxFeatures(spec: string, p: number, classification: boolean): number {
  const s = spec.trim().toLowerCase();
  let m: number;
  if (s === 'auto') m = classification ? Math.sqrt(p) : p / 3;
  else if (s === 'sqrt') m = Math.sqrt(p);
  else if (s === 'log2') m = Math.log2(p);
  else if (s === 'all' || s === 'none' || s === 'null') m = p;
  else {
    const x = Number(s);
    if (!Number.isFinite(x) || x <= 0) {
      throw new ArgumentError(
        'max_features',
        `must be auto, sqrt, log2, all or a number, got ${spec}`,
      );
    }
    if (s.includes('.') || x < 1) {
      if (x > 1)
        throw new ArgumentError('max_features', `a fraction must be in (0, 1], got ${spec}`);
      m = x * p;
    } else m = x;
  }
  return Math.max(1, Math.min(p, Math.floor(m)));
}

export function resolveCriterion(c: ForestArgs['criterion'], classification: boolean): Criterion {
  if (c === 'auto') return classification ? 'gini' : 'squared_error';
  if (classification === (c === 'squared_error')) {
    throw new ArgumentError(
      'criterion',
      `${c} does not fit a ${classification ? 'class' : 'continuous'} outcome`,
    );
  }
  return c;
}

/** sklearn compute_sample_weight('balanced', y): n / (K · count_k) per row. */
export function balancedRowWeights(labels: Int32Array, K: number): Float64Array {
  const count = new Float64Array(K);
  for (const y of labels) count[y]++;
  const w = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) w[i] = labels.length / (K * count[labels[i]!]!);
  return w;
}

export function cartParams(args: ForestArgs, p: number, target: Target): CartParams {
  const classification = target.nClasses > 0;
  return {
    criterion: resolveCriterion(args.criterion, classification),
    maxDepth: args.max_depth ?? Infinity,
    minSamplesSplit: args.min_samples_split,
    minSamplesLeaf: args.min_samples_leaf,
    mtry: resolveMaxFeatures(args.max_features, p, classification),
    minImpurityDecrease: args.min_impurity_decrease,
  };
}

/** Bin, grow; `permRepeats` > 0 adds OOB permutation importance. */
export async function fitRandomForest(
  ds: Dataset,
  args: ForestArgs,
  ctx: RunContext,
  extra: { permRepeats?: number } = {},
): Promise<{ fit: ForestFit; target: Target; cart: CartParams }> {
  const target = targetOf(ds);
  const cart = cartParams(args, ds.nFeatures, target);
  ctx.progress(0, 'binning');
  const binned = await binColumns(
    ds.data,
    ds.nSamples,
    ds.nFeatures,
    args.max_bin,
    ctx.threads ?? defaultThreads(),
  );
  const fit = await fitForest(
    binned,
    target,
    ds.data,
    {
      nEstimators: args.n_estimators,
      cart,
      bootstrap: args.bootstrap,
      rowWeight:
        args.class_weight === 'balanced' && target.labels
          ? balancedRowWeights(target.labels, target.nClasses)
          : null,
      oob: args.oob_score,
      permRepeats: extra.permRepeats ?? 0,
      thresholds: true,
    },
    ctx,
  );
  return { fit, target, cart };
}

/** Column-major data of `ds` in the model's feature order (copy only when needed). */
export function alignedData(ds: Dataset, featureNames: string[]): Float64Array {
  const same =
    ds.nFeatures === featureNames.length && ds.featureNames.every((f, j) => f === featureNames[j]);
  return same ? ds.data : selectFeaturesByName(ds, featureNames).data;
}

export class RandomForestModel implements FittedModel {
  readonly code = 'random_forest';
  constructor(
    readonly featureNames: string[],
    readonly trees: Tree[],
    readonly classes: string[],
    private readonly mdi: Float64Array,
    readonly params: Record<string, unknown>,
    readonly oobScore?: number,
  ) {}

  predict(ds: Dataset): Prediction {
    const x = alignedData(ds, this.featureNames);
    const out = forestPredict(this.trees, x, ds.nSamples);
    const K = this.classes.length;
    if (K === 0) return { kind: 'value', values: out };
    const labels = new Int32Array(ds.nSamples);
    for (let i = 0; i < ds.nSamples; i++) labels[i] = argmax(out, i * K, K);
    return { kind: 'class', labels, proba: out, classes: this.classes };
  }

  importance(): Record<string, number> {
    const out: Record<string, number> = {};
    this.featureNames.forEach((f, j) => (out[f] = this.mdi[j]!));
    return out;
  }

  save(): ModelState {
    return {
      code: this.code,
      version: 1,
      featureNames: this.featureNames,
      params: this.params,
      state: {
        classes: this.classes,
        mdi: Array.from(this.mdi),
        oobScore: this.oobScore ?? null,
        trees: this.trees.map(treeToJson),
      },
    };
  }

  static load(s: ModelState): RandomForestModel {
    if (s.code !== 'random_forest' || s.version !== 1) {
      throw new Error(`cannot load ${s.code} v${s.version} as random_forest v1`);
    }
    const st = s.state as {
      classes: string[];
      mdi: number[];
      oobScore: number | null;
      trees: TreeJson[];
    };
    return new RandomForestModel(
      s.featureNames,
      st.trees.map(treeFromJson),
      st.classes,
      Float64Array.from(st.mdi),
      s.params,
      st.oobScore ?? undefined,
    );
  }
}
