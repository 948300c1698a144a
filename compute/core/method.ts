/**
 * The contracts every registered method implements. One registry (compute/registry.ts) lists them;
 * the CLI, the workers and the GraphQL `methods` catalogue all read that list.
 */
import { type ArgSpecs } from './args';
import { type Dataset, type TaskType } from './dataset';
import { Rng } from './rng';

export type Device = 'cpu' | 'gpu' | 'both';
export type MethodKind = 'selector' | 'model' | 'metric' | 'splitter' | 'preprocessor';

/** Progress: fraction in [0, 1] of this method's work, plus a short stage label. */
export type ProgressFn = (fraction: number, stage: string) => void;

export interface RunContext {
  rng: Rng;
  signal?: AbortSignal;
  progress: ProgressFn;
  /** Worker threads the method may use (default: all cores). */
  threads?: number;
}

/** Throws AbortError when the signal fired: call at least once per outer iteration. */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const err = new Error('the run was cancelled');
    err.name = 'AbortError';
    throw err;
  }
}

export function quietContext(seed = 42, signal?: AbortSignal): RunContext {
  return { rng: new Rng(seed), signal, progress: () => undefined };
}

interface MethodBase {
  code: string;
  label: string;
  description: string;
  /** Literature or software reference users can check us against. */
  reference: string;
  tasks: readonly TaskType[];
  device: Device;
  /** For GPU-capable methods: problems with at least this many cells (n × p) go to the GPU under AUTO. */
  gpuMinCells?: number;
  args: ArgSpecs;
}

export interface SelectorResult {
  /** Selected feature names, best first. */
  selected: string[];
  /** Score per feature (all features scored by the method), higher = better. */
  scores: Record<string, number>;
  /** Parameters actually used (after defaults and CV choices). */
  params: Record<string, unknown>;
  /** Iterations, convergence, chosen penalty, p-values … */
  diagnostics: Record<string, unknown>;
  /** Which numeric backend ran: 'float64' (typed arrays), 'tensorflow', 'wasm', 'cpu' (tfjs), 'gpu.js' … */
  backend: string;
}

export interface SelectorDef<A = Record<string, unknown>> extends MethodBase {
  kind: 'selector';
  /** `k`: keep the top k (0/undefined: the method's own rule). */
  run(ds: Dataset, args: A, ctx: RunContext, k?: number): Promise<SelectorResult>;
}

/** Predictions of a fitted model for the rows of a dataset. */
export type Prediction =
  | {
      kind: 'class';
      /** Predicted class index per sample (indexes `classes`). */
      labels: Int32Array;
      /** Row-major n × nClasses probabilities (binary: column 1 = positive class). */
      proba: Float64Array;
      classes: string[];
    }
  | { kind: 'value'; values: Float64Array }
  /** Survival: higher risk = shorter expected survival. */
  | { kind: 'risk'; risk: Float64Array };

export interface FittedModel {
  code: string;
  featureNames: string[];
  predict(ds: Dataset): Prediction;
  /** Per-feature importance or |coefficient|, when the model has one. */
  importance?(): Record<string, number>;
  /** JSON-safe state; ModelDef.load(state) rebuilds the model. */
  save(): ModelState;
}

export interface ModelState {
  code: string;
  version: number;
  featureNames: string[];
  params: Record<string, unknown>;
  state: unknown;
}

/**
 * Refuses a saved model of another method or of a state format this code does not read, before
 * its fields are trusted (a model file outlives the code that wrote it).
 */
export function assertModelState(state: ModelState, code: string, version: number): void {
  if (state.code !== code || state.version !== version) {
    throw new Error(`cannot load ${state.code} v${state.version} as ${code} v${version}`);
  }
}

export interface ModelDef<A = Record<string, unknown>> extends MethodBase {
  kind: 'model';
  fit(ds: Dataset, args: A, ctx: RunContext): Promise<FittedModel>;
  load(state: ModelState): FittedModel;
}

export interface MetricDef extends Omit<MethodBase, 'args' | 'device'> {
  kind: 'metric';
  greaterIsBetter: boolean;
  /** Needs probabilities / scores rather than hard labels. */
  needsScores: boolean;
  compute(truth: Dataset['outcome'], prediction: Prediction): number;
}

export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

export interface SplitterDef<A = Record<string, unknown>> extends Omit<MethodBase, 'device'> {
  kind: 'splitter';
  split(ds: Dataset, args: A, rng: Rng): Fold[];
}

export interface PreprocessorDef<A = Record<string, unknown>> extends MethodBase {
  kind: 'preprocessor';
  /** Learn parameters on training rows; apply the same transform to any rows. */
  fit(ds: Dataset, args: A): FittedPreprocessor;
}

export interface FittedPreprocessor {
  transform(ds: Dataset): Dataset;
}

export type AnyMethodDef =
  SelectorDef<never> | ModelDef<never> | MetricDef | SplitterDef<never> | PreprocessorDef<never>;
