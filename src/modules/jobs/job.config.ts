/**
 * Job configs: one JSON shape per job type, validated against the compute registry's argument
 * specs before anything is queued. Errors name the exact field (`config.selectors[0].args.alpha`)
 * so the API can answer BAD_USER_INPUT pointing at it. The normalised config (defaults filled in)
 * is what gets stored and what the worker runs.
 *
 * Shapes (keys in camelCase; method args keep their scikit-learn / glmnet names):
 * - FEATURE_SELECTION `{selectors: [{code, args, k}], preprocessing: [{code, args}],
 *   stability: {nSubsamples, sampleFraction, threshold} | null, ensemble: {method, minVotes, k} | null, seed}`
 * - MODEL_TRAINING `{model: {code, args}, features: [names] | null, fromJob: {jobId, selector} | null,
 *   preprocessing, validation: {splitter: {code, args}, metrics: [codes]} | null, seed}`
 * - HYPERPARAMETER_TUNING `{model: {code, args}, searchSpace: {param: [values] | {min, max, log, type}} | null,
 *   strategy: random | tpe, nTrials, timeoutSeconds, splitter, metric, features | fromJob, preprocessing, seed}`
 * - BENCHMARKING `{signatures: [{name, features} | {name, fromJob}], selectors: [{code, args, k}],
 *   models: [{code, args}], splitter, metrics, preprocessing, seed}`
 * - PREPROCESSING `{steps: [{code, args}]}`
 * - PREDICTION `{modelJob}` (a completed MODEL_TRAINING job; the job's dataset is scored)
 */
import { ArgumentError, parseArgs, type ArgSpecs } from '../../../compute/core/args.js';
import { type TaskType } from '../../../compute/core/dataset.js';
import { type Device } from '../../../compute/core/method.js';
import * as registry from '../../../compute/registry.js';
import { type JobTypeName } from './job.model.js';

/** A config problem at `field` (a path starting with `config`). */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type MethodKind = 'selector' | 'model' | 'preprocessor' | 'splitter' | 'metric';

/** A registry method a config uses (for routing, task checks and the UI). */
export interface MethodUse {
  kind: MethodKind;
  code: string;
  device: Device;
  gpuMinCells?: number;
  tasks: readonly TaskType[];
  path: string;
}

/** Another job a config reads from (its features or its model). */
export interface JobRef {
  path: string;
  jobId: string;
  /** Job types the referenced job may have. */
  types: readonly JobTypeName[];
}

export interface ValidatedConfig {
  config: Record<string, unknown>;
  methods: MethodUse[];
  jobRefs: JobRef[];
}

export interface MethodRef {
  code: string;
  args: Record<string, unknown>;
}
export interface SelectorStep extends MethodRef {
  k: number | null;
}
export interface StabilityConfig {
  nSubsamples: number;
  sampleFraction: number;
  threshold: number;
}
export interface EnsembleConfig {
  method: (typeof ENSEMBLE_METHODS)[number];
  minVotes: number | null;
  k: number | null;
}
export interface FeatureSource {
  features: string[] | null;
  fromJob: { jobId: string; selector: string | null } | null;
}
export interface FeatureSelectionConfig {
  selectors: SelectorStep[];
  preprocessing: MethodRef[];
  stability: StabilityConfig | null;
  ensemble: EnsembleConfig | null;
  seed: number;
}
export interface ValidationSpec {
  splitter: MethodRef | null;
  metrics: string[];
}
export interface ModelTrainingConfig extends FeatureSource {
  model: MethodRef;
  preprocessing: MethodRef[];
  validation: ValidationSpec | null;
  seed: number;
}
export interface HyperparameterTuningConfig extends FeatureSource {
  model: MethodRef;
  searchSpace: Record<string, unknown> | null;
  strategy: 'random' | 'tpe';
  nTrials: number;
  timeoutSeconds: number;
  splitter: MethodRef | null;
  metric: string | null;
  preprocessing: MethodRef[];
  seed: number;
}
export interface BenchmarkSignature {
  name: string;
  features: string[] | null;
  fromJob: { jobId: string; selector: string | null } | null;
}
export interface BenchmarkingConfig {
  signatures: BenchmarkSignature[];
  selectors: SelectorStep[];
  models: MethodRef[];
  splitter: MethodRef | null;
  metrics: string[];
  preprocessing: MethodRef[];
  seed: number;
}
export interface PreprocessingConfig {
  steps: MethodRef[];
}
export interface PredictionConfig {
  modelJob: string;
}

export const ENSEMBLE_METHODS = [
  'majority_vote',
  'soft_vote',
  'borda',
  'mean_rank',
  'rra',
  'intersection',
  'union',
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LIST = 100;

// --- small path-aware readers --------------------------------------------------------------

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ConfigError(path, 'must be an object');
  }
  return v as Obj;
}

function onlyKeys(o: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      throw new ConfigError(`${path}.${k}`, `unknown field (known: ${keys.join(', ')})`);
    }
  }
}

function list(v: unknown, path: string, min = 0, max = MAX_LIST): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list');
  if (v.length < min)
    throw new ConfigError(path, `needs at least ${min} item${min > 1 ? 's' : ''}`);
  if (v.length > max) throw new ConfigError(path, `allows at most ${max} items`);
  return v;
}

function str(v: unknown, path: string, max = 200): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new ConfigError(path, 'must be a non-empty string');
  }
  if (v.length > max) throw new ConfigError(path, `must be at most ${max} characters`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number, def?: number): number {
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ConfigError(path, 'is required');
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(path, `must be an integer, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max)
    throw new ConfigError(path, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function num(
  v: unknown,
  path: string,
  range: { gt?: number; min?: number; max?: number },
  def: number,
): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(path, `must be a number, got ${JSON.stringify(v)}`);
  }
  if (range.gt !== undefined && !(v > range.gt))
    throw new ConfigError(path, `must be > ${range.gt}`);
  if (range.min !== undefined && v < range.min)
    throw new ConfigError(path, `must be ≥ ${range.min}`);
  if (range.max !== undefined && v > range.max)
    throw new ConfigError(path, `must be ≤ ${range.max}`);
  return v;
}

function uuid(v: unknown, path: string): string {
  if (typeof v !== 'string' || !UUID.test(v)) throw new ConfigError(path, 'must be a job id');
  return v.toLowerCase();
}

function names(v: unknown, path: string): string[] {
  const items = list(v, path, 1, 100_000);
  const seen = new Set<string>();
  return items.map((x, i) => {
    const name = str(x, `${path}[${i}]`, 1000);
    if (seen.has(name)) throw new ConfigError(`${path}[${i}]`, `duplicate feature "${name}"`);
    seen.add(name);
    return name;
  });
}

/** parseArgs with its ArgumentError turned into a ConfigError on the same field. */
function checkedArgs(specs: ArgSpecs, raw: Obj, prefix: string): Obj {
  try {
    return parseArgs(specs, raw, prefix);
  } catch (e) {
    if (e instanceof ArgumentError) {
      throw new ConfigError(e.field, e.message.slice(e.field.length + 2));
    }
    throw e;
  }
}

// --- registry-backed method references -----------------------------------------------------

interface Found {
  code: string;
  device: Device;
  gpuMinCells?: number;
  tasks: readonly TaskType[];
  args?: ArgSpecs;
}

const LISTS: Record<MethodKind, () => readonly Found[]> = {
  selector: () => registry.selectors as readonly Found[],
  model: () => registry.models as readonly Found[],
  preprocessor: () => registry.preprocessors as readonly Found[],
  splitter: () =>
    registry.splitters.map(s => ({ ...s, device: 'cpu' as Device })) as readonly Found[],
  metric: () => registry.metrics.map(m => ({ ...m, device: 'cpu' as Device })) as readonly Found[],
};

class Collector {
  readonly methods: MethodUse[] = [];
  readonly jobRefs: JobRef[] = [];

  find(kind: MethodKind, code: unknown, path: string): Found {
    const c = str(code, path, 100);
    const all = LISTS[kind]();
    const def = all.find(m => m.code === c);
    if (!def) {
      const known = all.map(m => m.code).join(', ') || 'none registered';
      throw new ConfigError(path, `unknown ${kind} "${c}" (known: ${known})`);
    }
    this.methods.push({
      kind,
      code: def.code,
      device: def.device,
      gpuMinCells: def.gpuMinCells,
      tasks: def.tasks,
      path,
    });
    return def;
  }

  /** `{code, args}` → validated args with defaults (field names like `config.model.args.C`). */
  method(kind: MethodKind, v: unknown, path: string, extraKeys: string[] = []): MethodRef & Obj {
    const o = obj(v, path);
    onlyKeys(o, path, ['code', 'args', ...extraKeys]);
    const def = this.find(kind, o.code, `${path}.code`);
    const rawArgs = o.args === undefined || o.args === null ? {} : obj(o.args, `${path}.args`);
    const args = checkedArgs(def.args ?? {}, rawArgs, `${path}.args.`);
    return { ...o, code: def.code, args };
  }

  methods_(kind: MethodKind, v: unknown, path: string, min = 0): MethodRef[] {
    if (v === undefined || v === null) {
      if (min > 0) throw new ConfigError(path, 'is required');
      return [];
    }
    return list(v, path, min).map((x, i) => {
      const m = this.method(kind, x, `${path}[${i}]`);
      return { code: m.code, args: m.args };
    });
  }

  selectorSteps(v: unknown, path: string, min: number): SelectorStep[] {
    if ((v === undefined || v === null) && min === 0) return [];
    return list(v, path, min).map((x, i) => {
      const p = `${path}[${i}]`;
      const m = this.method('selector', x, p, ['k']);
      const k = m.k === undefined || m.k === null ? null : int(m.k, `${p}.k`, 1, 1_000_000);
      return { code: m.code, args: m.args, k };
    });
  }

  metricCodes(v: unknown, path: string): string[] {
    if (v === undefined || v === null) return [];
    return list(v, path).map((x, i) => this.find('metric', x, `${path}[${i}]`).code);
  }

  jobRef(v: unknown, path: string, types: readonly JobTypeName[]): string {
    const id = uuid(v, path);
    this.jobRefs.push({ path, jobId: id, types });
    return id;
  }

  featureSource(o: Obj, path: string, required: boolean): FeatureSource {
    if (
      o.features !== undefined &&
      o.features !== null &&
      o.fromJob !== undefined &&
      o.fromJob !== null
    ) {
      throw new ConfigError(`${path}.fromJob`, 'give either features or fromJob, not both');
    }
    if (o.features !== undefined && o.features !== null) {
      return { features: names(o.features, `${path}.features`), fromJob: null };
    }
    if (o.fromJob !== undefined && o.fromJob !== null) {
      return { features: null, fromJob: this.fromJob(o.fromJob, `${path}.fromJob`) };
    }
    if (required) throw new ConfigError(`${path}.features`, 'give features or fromJob');
    return { features: null, fromJob: null };
  }

  /** `"jobId"` or `{jobId, selector}`: the signature of a FEATURE_SELECTION job. */
  fromJob(v: unknown, path: string): { jobId: string; selector: string | null } {
    if (typeof v === 'string') {
      return { jobId: this.jobRef(v, path, ['FEATURE_SELECTION']), selector: null };
    }
    const o = obj(v, path);
    onlyKeys(o, path, ['jobId', 'selector']);
    return {
      jobId: this.jobRef(o.jobId, `${path}.jobId`, ['FEATURE_SELECTION']),
      selector:
        o.selector === undefined || o.selector === null
          ? null
          : str(o.selector, `${path}.selector`),
    };
  }

  /** Null = the default for the dataset's task (stratified for classes, k-fold otherwise). */
  splitter(v: unknown, path: string): MethodRef | null {
    if (v === undefined || v === null) return null;
    const m = this.method('splitter', v, path);
    return { code: m.code, args: m.args };
  }
}

// --- per type -------------------------------------------------------------------------------

const P = 'config';

function featureSelection(c: Collector, o: Obj): FeatureSelectionConfig {
  onlyKeys(o, P, ['selectors', 'preprocessing', 'stability', 'ensemble', 'seed']);
  const selectors = c.selectorSteps(o.selectors, `${P}.selectors`, 1);
  let stability: StabilityConfig | null = null;
  if (o.stability !== undefined && o.stability !== null) {
    const s = obj(o.stability, `${P}.stability`);
    onlyKeys(s, `${P}.stability`, ['nSubsamples', 'sampleFraction', 'threshold']);
    stability = {
      nSubsamples: int(s.nSubsamples, `${P}.stability.nSubsamples`, 2, 10_000, 100),
      sampleFraction: num(
        s.sampleFraction,
        `${P}.stability.sampleFraction`,
        { gt: 0, max: 1 },
        0.5,
      ),
      threshold: num(s.threshold, `${P}.stability.threshold`, { gt: 0, max: 1 }, 0.6),
    };
  }
  let ensemble: EnsembleConfig | null = null;
  if (o.ensemble !== undefined && o.ensemble !== null) {
    const e = obj(o.ensemble, `${P}.ensemble`);
    onlyKeys(e, `${P}.ensemble`, ['method', 'minVotes', 'k']);
    const method = str(e.method ?? 'majority_vote', `${P}.ensemble.method`);
    if (!(ENSEMBLE_METHODS as readonly string[]).includes(method)) {
      throw new ConfigError(
        `${P}.ensemble.method`,
        `must be one of ${ENSEMBLE_METHODS.join(', ')}`,
      );
    }
    if (selectors.length < 2) {
      throw new ConfigError(`${P}.ensemble`, 'needs at least 2 selectors');
    }
    ensemble = {
      method: method as EnsembleConfig['method'],
      minVotes:
        e.minVotes === undefined || e.minVotes === null
          ? null
          : int(e.minVotes, `${P}.ensemble.minVotes`, 1, selectors.length),
      k: e.k === undefined || e.k === null ? null : int(e.k, `${P}.ensemble.k`, 1, 1_000_000),
    };
  }
  return {
    selectors,
    preprocessing: c.methods_('preprocessor', o.preprocessing, `${P}.preprocessing`),
    stability,
    ensemble,
    seed: int(o.seed, `${P}.seed`, 0, 2 ** 31 - 1, 42),
  };
}

function modelTraining(c: Collector, o: Obj): ModelTrainingConfig {
  onlyKeys(o, P, ['model', 'features', 'fromJob', 'preprocessing', 'validation', 'seed']);
  const m = c.method('model', o.model, `${P}.model`);
  let validation: ValidationSpec | null = null;
  if (o.validation !== undefined && o.validation !== null) {
    const v = obj(o.validation, `${P}.validation`);
    onlyKeys(v, `${P}.validation`, ['splitter', 'metrics']);
    validation = {
      splitter: c.splitter(v.splitter, `${P}.validation.splitter`),
      metrics: c.metricCodes(v.metrics, `${P}.validation.metrics`),
    };
  }
  return {
    model: { code: m.code, args: m.args },
    ...c.featureSource(o, P, false),
    preprocessing: c.methods_('preprocessor', o.preprocessing, `${P}.preprocessing`),
    validation,
    seed: int(o.seed, `${P}.seed`, 0, 2 ** 31 - 1, 42),
  };
}

function hyperparameterTuning(c: Collector, o: Obj): HyperparameterTuningConfig {
  onlyKeys(o, P, [
    'model',
    'searchSpace',
    'strategy',
    'nTrials',
    'timeoutSeconds',
    'splitter',
    'metric',
    'features',
    'fromJob',
    'preprocessing',
    'seed',
  ]);
  const mo = obj(o.model, `${P}.model`);
  const def = c.find('model', mo.code, `${P}.model.code`);
  onlyKeys(mo, `${P}.model`, ['code', 'args']);
  // Fixed (not tuned) args are validated like any other; searched ones are checked per value.
  const fixed = checkedArgs(
    def.args ?? {},
    mo.args === undefined ? {} : obj(mo.args, `${P}.model.args`),
    `${P}.model.args.`,
  );
  let searchSpace: Record<string, unknown> | null = null;
  if (o.searchSpace !== undefined && o.searchSpace !== null) {
    const s = obj(o.searchSpace, `${P}.searchSpace`);
    const specs = def.args ?? {};
    for (const [param, choice] of Object.entries(s)) {
      const path = `${P}.searchSpace.${param}`;
      if (!(param in specs)) {
        throw new ConfigError(
          path,
          `unknown parameter of ${def.code} (known: ${Object.keys(specs).join(', ')})`,
        );
      }
      if (Array.isArray(choice)) {
        list(choice, path, 1).forEach((value, i) => {
          try {
            parseArgs({ [param]: specs[param]! }, { [param]: value }, `${path}[${i}].`);
          } catch (e) {
            if (e instanceof ArgumentError)
              throw new ConfigError(`${path}[${i}]`, e.message.slice(e.field.length + 2));
            throw e;
          }
        });
      } else {
        const r = obj(choice, path);
        onlyKeys(r, path, ['min', 'max', 'log', 'type']);
        const lo = num(r.min, `${path}.min`, {}, NaN);
        const hi = num(r.max, `${path}.max`, {}, NaN);
        if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
          throw new ConfigError(path, 'a range needs numbers min < max');
        }
        if (r.log === true && !(lo > 0))
          throw new ConfigError(`${path}.min`, 'must be > 0 for a log range');
      }
    }
    searchSpace = s;
  }
  const strategy = str(o.strategy ?? 'tpe', `${P}.strategy`);
  if (strategy !== 'random' && strategy !== 'tpe') {
    throw new ConfigError(`${P}.strategy`, 'must be random or tpe');
  }
  return {
    model: { code: def.code, args: fixed },
    searchSpace,
    strategy,
    nTrials: int(o.nTrials, `${P}.nTrials`, 1, 10_000, 50),
    timeoutSeconds: int(o.timeoutSeconds, `${P}.timeoutSeconds`, 1, 7 * 86_400, 3600),
    splitter: c.splitter(o.splitter, `${P}.splitter`),
    metric:
      o.metric === undefined || o.metric === null
        ? null
        : c.find('metric', o.metric, `${P}.metric`).code,
    ...c.featureSource(o, P, false),
    preprocessing: c.methods_('preprocessor', o.preprocessing, `${P}.preprocessing`),
    seed: int(o.seed, `${P}.seed`, 0, 2 ** 31 - 1, 42),
  };
}

function benchmarking(c: Collector, o: Obj): BenchmarkingConfig {
  onlyKeys(o, P, [
    'signatures',
    'selectors',
    'models',
    'splitter',
    'metrics',
    'preprocessing',
    'seed',
  ]);
  const signatures: BenchmarkSignature[] =
    o.signatures === undefined || o.signatures === null
      ? []
      : list(o.signatures, `${P}.signatures`).map((x, i) => {
          const p = `${P}.signatures[${i}]`;
          const s = obj(x, p);
          onlyKeys(s, p, ['name', 'features', 'fromJob']);
          const src = c.featureSource(s, p, true);
          return {
            name: s.name === undefined ? `signature_${i + 1}` : str(s.name, `${p}.name`),
            ...src,
          };
        });
  const selectors = c.selectorSteps(o.selectors, `${P}.selectors`, 0);
  if (signatures.length + selectors.length === 0) {
    throw new ConfigError(`${P}.signatures`, 'give signatures, selectors, or both');
  }
  return {
    signatures,
    selectors,
    models: c.methods_('model', o.models, `${P}.models`, 1),
    splitter: c.splitter(o.splitter, `${P}.splitter`),
    metrics: c.metricCodes(o.metrics, `${P}.metrics`),
    preprocessing: c.methods_('preprocessor', o.preprocessing, `${P}.preprocessing`),
    seed: int(o.seed, `${P}.seed`, 0, 2 ** 31 - 1, 42),
  };
}

function preprocessing(c: Collector, o: Obj): PreprocessingConfig {
  onlyKeys(o, P, ['steps']);
  return { steps: c.methods_('preprocessor', o.steps, `${P}.steps`, 1) };
}

function prediction(c: Collector, o: Obj): PredictionConfig {
  onlyKeys(o, P, ['modelJob']);
  return { modelJob: c.jobRef(o.modelJob, `${P}.modelJob`, ['MODEL_TRAINING']) };
}

const BY_TYPE: Record<JobTypeName, (c: Collector, o: Obj) => object> = {
  FEATURE_SELECTION: featureSelection,
  MODEL_TRAINING: modelTraining,
  HYPERPARAMETER_TUNING: hyperparameterTuning,
  BENCHMARKING: benchmarking,
  PREPROCESSING: preprocessing,
  PREDICTION: prediction,
};

/** Validate and normalise a job config; throws ConfigError naming the field. */
export function validateJobConfig(type: JobTypeName, raw: unknown): ValidatedConfig {
  const c = new Collector();
  const config = BY_TYPE[type](c, obj(raw ?? {}, P)) as Record<string, unknown>;
  return { config, methods: c.methods, jobRefs: c.jobRefs };
}
