/**
 * Job configs: one JSON shape per job type, validated against the compute registry's argument
 * specs before anything is queued. Errors name the exact field (`config.selectors[0].args.alpha`)
 * so the API can answer BAD_USER_INPUT pointing at it. The normalised config (defaults filled in)
 * is what gets stored and what the worker runs.
 *
 * Shapes (keys in camelCase; method args keep their scikit-learn / glmnet names):
 * - FEATURE_SELECTION `{selectors: [{code, args, k}], preprocessing: [{code, args}], seed}` —
 *   each selector runs on the whole (preprocessed) dataset; stability selection and ensembles are
 *   selectors too (`stability_selection` with `base` + `base_args`, `ensemble` with `selectors` +
 *   `selector_args`; nested args may be given as JSON objects and are validated as well).
 * - MODEL_TRAINING `{model: {code, args, tune}, features | fromJob, selectors, preprocessing,
 *   validation: {splitter, metrics} | null, seed}` — optional leak-free CV (the whole pipeline
 *   refitted in every training fold), then a final fit on all rows saved as `model.json`.
 * - HYPERPARAMETER_TUNING `{model: {code, args}, searchSpace, strategy, nTrials, timeoutSeconds,
 *   metric, inner, validation, features | fromJob, preprocessing, seed}` — search space entries as
 *   Optuna distributions: `{type: float|int, low, high, log}` or `{type: categorical, choices}`.
 * - BENCHMARKING `{signatures: [{name, features} | {name, fromJob} | {name, selector}], selectors,
 *   models: [{code, args}], preprocessing, split, cv: {nSplits, nRepeats}, metrics, compareTop, seed}`.
 * - PREPROCESSING `{steps: [{code, args}]}` — the transformed matrix is stored as an artifact.
 * - PREDICTION `{modelJob}` — a completed MODEL_TRAINING job's model applied to this dataset.
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
export interface FromJob {
  jobId: string;
  /** Signature name in that job's result (default: its first). */
  selector: string | null;
}
export interface FeatureSource {
  features: string[] | null;
  fromJob: FromJob | null;
}
export interface FeatureSelectionConfig {
  selectors: SelectorStep[];
  preprocessing: MethodRef[];
  seed: number;
}
export interface ValidationSpec {
  /** Null: stratified 5-fold for classes, survival-stratified for survival, k-fold otherwise. */
  splitter: MethodRef | null;
  /** Empty: the task's default metrics. */
  metrics: string[];
}
export type Dist =
  | { type: 'float' | 'int'; low: number; high: number; log?: boolean }
  | { type: 'categorical'; choices: (string | number | boolean)[] };
export interface TuneConfig {
  strategy: 'random' | 'tpe';
  nTrials: number;
  timeoutSeconds: number | null;
  metric: string | null;
  inner: MethodRef | null;
  searchSpace: Record<string, Dist> | null;
}
export interface ModelTrainingConfig extends FeatureSource {
  model: MethodRef & { tune: TuneConfig | null };
  selectors: SelectorStep[];
  preprocessing: MethodRef[];
  validation: ValidationSpec | null;
  seed: number;
}
export interface HyperparameterTuningConfig extends FeatureSource, TuneConfig {
  model: MethodRef;
  preprocessing: MethodRef[];
  /** Outer CV for an unbiased (nested) estimate of the tuned model; null: skip. */
  validation: ValidationSpec | null;
  seed: number;
}
export interface BenchmarkSignature {
  name: string;
  features: string[] | null;
  fromJob: FromJob | null;
  selector: SelectorStep | null;
}
export interface BenchmarkingConfig {
  signatures: BenchmarkSignature[];
  models: MethodRef[];
  preprocessing: MethodRef[];
  /** Null: train_test_validation 60/20/20 stratified. */
  split: MethodRef | null;
  cv: { nSplits: number; nRepeats: number };
  metrics: string[];
  compareTop: number;
  seed: number;
}
export interface PreprocessingConfig {
  steps: MethodRef[];
}
export interface PredictionConfig {
  modelJob: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LIST = 50;

// --- small path-aware readers --------------------------------------------------------------

type Obj = Record<string, unknown>;

const given = (v: unknown): boolean => v !== undefined && v !== null;

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
  if (v.length < min) {
    throw new ConfigError(path, `needs at least ${min} item${min > 1 ? 's' : ''}`);
  }
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
  if (!given(v)) {
    if (def !== undefined) return def;
    throw new ConfigError(path, 'is required');
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(path, `must be an integer, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) {
    throw new ConfigError(path, `must be between ${min} and ${max}, got ${v}`);
  }
  return v;
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(path, `must be a number, got ${JSON.stringify(v)}`);
  }
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

/** One value of one parameter, checked against its spec; the error names `field`. */
function checkValue(spec: ArgSpecs[string], param: string, value: unknown, field: string): void {
  try {
    parseArgs({ [param]: spec }, { [param]: value });
  } catch (e) {
    if (e instanceof ArgumentError) {
      throw new ConfigError(field, e.message.slice(e.field.length + 2));
    }
    throw e;
  }
}

/** A nested-args value given as a JSON object or a JSON string → the object. */
function jsonArg(v: unknown, path: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new ConfigError(path, 'is not valid JSON');
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
    const rawArgs = given(o.args) ? { ...obj(o.args, `${path}.args`) } : {};
    if (kind === 'selector') this.nested(def.code, rawArgs, `${path}.args`);
    const args = checkedArgs(def.args ?? {}, rawArgs, `${path}.args.`);
    return { ...o, code: def.code, args };
  }

  /**
   * Selectors that wrap other selectors: validate the wrapped codes and their args here (the
   * compute would only find a typo deep inside a run), and pass nested args on as JSON text.
   */
  nested(code: string, args: Obj, path: string): void {
    if (code === 'stability_selection' && given(args.base)) {
      const base = this.find('selector', args.base, `${path}.base`);
      if (base.code === 'stability_selection') {
        throw new ConfigError(`${path}.base`, 'stability selection cannot wrap itself');
      }
      const inner = given(args.base_args)
        ? obj(jsonArg(args.base_args, `${path}.base_args`), `${path}.base_args`)
        : {};
      checkedArgs(base.args ?? {}, inner, `${path}.base_args.`);
      args.base_args = JSON.stringify(inner);
    }
    if (code === 'ensemble' && given(args.selectors)) {
      const members = list(args.selectors, `${path}.selectors`, 2).map(
        (c, i) => this.find('selector', c, `${path}.selectors[${i}]`).code,
      );
      if (given(args.selector_args)) {
        const raw = jsonArg(args.selector_args, `${path}.selector_args`);
        const specsOf = (c: string) => LISTS.selector().find(s => s.code === c)!.args ?? {};
        if (Array.isArray(raw)) {
          if (raw.length !== members.length) {
            throw new ConfigError(
              `${path}.selector_args`,
              `has ${raw.length} entries for ${members.length} selectors`,
            );
          }
          raw.forEach((a, i) =>
            checkedArgs(
              specsOf(members[i]!),
              given(a) ? obj(a, `${path}.selector_args[${i}]`) : {},
              `${path}.selector_args[${i}].`,
            ),
          );
        } else {
          const byCode = obj(raw, `${path}.selector_args`);
          for (const [c, a] of Object.entries(byCode)) {
            if (!members.includes(c)) {
              throw new ConfigError(`${path}.selector_args.${c}`, 'is not one of the selectors');
            }
            checkedArgs(
              specsOf(c),
              obj(a, `${path}.selector_args.${c}`),
              `${path}.selector_args.${c}.`,
            );
          }
        }
        args.selector_args = JSON.stringify(raw);
      }
    }
  }

  methodList(kind: MethodKind, v: unknown, path: string, min = 0): MethodRef[] {
    if (!given(v)) {
      if (min > 0) throw new ConfigError(path, 'is required');
      return [];
    }
    return list(v, path, min).map((x, i) => {
      const m = this.method(kind, x, `${path}[${i}]`);
      return { code: m.code, args: m.args };
    });
  }

  selectorStep(v: unknown, path: string): SelectorStep {
    const m = this.method('selector', v, path, ['k']);
    const k = given(m.k) ? int(m.k, `${path}.k`, 1, 1_000_000) : null;
    return { code: m.code, args: m.args, k };
  }

  selectorSteps(v: unknown, path: string, min: number): SelectorStep[] {
    if (!given(v) && min === 0) return [];
    return list(v, path, min).map((x, i) => this.selectorStep(x, `${path}[${i}]`));
  }

  metricCodes(v: unknown, path: string): string[] {
    if (!given(v)) return [];
    return list(v, path).map((x, i) => this.find('metric', x, `${path}[${i}]`).code);
  }

  /** Null = the default for the dataset's task. */
  splitter(v: unknown, path: string): MethodRef | null {
    if (!given(v)) return null;
    const m = this.method('splitter', v, path);
    return { code: m.code, args: m.args };
  }

  validation(v: unknown, path: string): ValidationSpec | null {
    if (!given(v)) return null;
    const o = obj(v, path);
    onlyKeys(o, path, ['splitter', 'metrics']);
    return {
      splitter: this.splitter(o.splitter, `${path}.splitter`),
      metrics: this.metricCodes(o.metrics, `${path}.metrics`),
    };
  }

  jobRef(v: unknown, path: string, types: readonly JobTypeName[]): string {
    const id = uuid(v, path);
    this.jobRefs.push({ path, jobId: id, types });
    return id;
  }

  /** `"jobId"` or `{jobId, selector}`: a signature of a FEATURE_SELECTION job. */
  fromJob(v: unknown, path: string): FromJob {
    if (typeof v === 'string') {
      return { jobId: this.jobRef(v, path, ['FEATURE_SELECTION']), selector: null };
    }
    const o = obj(v, path);
    onlyKeys(o, path, ['jobId', 'selector']);
    return {
      jobId: this.jobRef(o.jobId, `${path}.jobId`, ['FEATURE_SELECTION']),
      selector: given(o.selector) ? str(o.selector, `${path}.selector`) : null,
    };
  }

  featureSource(o: Obj, path: string): FeatureSource {
    if (given(o.features) && given(o.fromJob)) {
      throw new ConfigError(`${path}.fromJob`, 'give either features or fromJob, not both');
    }
    return {
      features: given(o.features) ? names(o.features, `${path}.features`) : null,
      fromJob: given(o.fromJob) ? this.fromJob(o.fromJob, `${path}.fromJob`) : null,
    };
  }

  /** A search space over `model`'s args, in compute/tuning's distribution format. */
  searchSpace(v: unknown, path: string, model: Found): Record<string, Dist> | null {
    if (!given(v)) return null;
    const s = obj(v, path);
    const specs = model.args ?? {};
    const out: Record<string, Dist> = {};
    for (const [param, raw] of Object.entries(s)) {
      const p = `${path}.${param}`;
      const spec = specs[param];
      if (!spec) {
        const known = Object.keys(specs).join(', ');
        throw new ConfigError(p, `unknown parameter of ${model.code} (known: ${known})`);
      }
      const d = obj(raw, p);
      const type = str(d.type, `${p}.type`);
      if (type === 'categorical') {
        onlyKeys(d, p, ['type', 'choices']);
        const choices = list(d.choices, `${p}.choices`, 1, 100).map((c, i) => {
          checkValue(spec, param, c, `${p}.choices[${i}]`);
          if (!['string', 'number', 'boolean'].includes(typeof c)) {
            throw new ConfigError(`${p}.choices[${i}]`, 'must be a string, number or boolean');
          }
          return c as string | number | boolean;
        });
        out[param] = { type: 'categorical', choices };
      } else if (type === 'float' || type === 'int') {
        onlyKeys(d, p, ['type', 'low', 'high', 'log']);
        if (spec.type !== 'number' && spec.type !== 'integer') {
          throw new ConfigError(`${p}.type`, `${param} is not numeric; use categorical`);
        }
        const low = finite(d.low, `${p}.low`);
        const high = finite(d.high, `${p}.high`);
        const log = d.log === true;
        if (!(low <= high)) throw new ConfigError(p, 'needs low ≤ high');
        if (log && !(low > 0)) throw new ConfigError(`${p}.low`, 'must be > 0 for a log range');
        for (const [edge, x] of [
          ['low', low],
          ['high', high],
        ] as const) {
          checkValue(spec, param, type === 'int' ? Math.round(x) : x, `${p}.${edge}`);
        }
        out[param] = { type, low, high, ...(log ? { log } : {}) };
      } else {
        throw new ConfigError(`${p}.type`, 'must be float, int or categorical');
      }
    }
    return out;
  }

  tune(o: Obj, path: string, model: Found): TuneConfig {
    const strategy = given(o.strategy) ? str(o.strategy, `${path}.strategy`) : 'tpe';
    if (strategy !== 'random' && strategy !== 'tpe') {
      throw new ConfigError(`${path}.strategy`, 'must be random or tpe');
    }
    return {
      strategy,
      nTrials: int(o.nTrials, `${path}.nTrials`, 1, 10_000, 30),
      timeoutSeconds: given(o.timeoutSeconds)
        ? int(o.timeoutSeconds, `${path}.timeoutSeconds`, 1, 7 * 86_400)
        : null,
      metric: given(o.metric) ? this.find('metric', o.metric, `${path}.metric`).code : null,
      inner: this.splitter(o.inner, `${path}.inner`),
      searchSpace: this.searchSpace(o.searchSpace, `${path}.searchSpace`, model),
    };
  }
}

// --- per type -------------------------------------------------------------------------------

const P = 'config';
const TUNE_KEYS = ['strategy', 'nTrials', 'timeoutSeconds', 'metric', 'inner', 'searchSpace'];

const seedOf = (o: Obj) => int(o.seed, `${P}.seed`, 0, 2 ** 31 - 1, 42);

function featureSelection(c: Collector, o: Obj): FeatureSelectionConfig {
  onlyKeys(o, P, ['selectors', 'preprocessing', 'seed']);
  return {
    selectors: c.selectorSteps(o.selectors, `${P}.selectors`, 1),
    preprocessing: c.methodList('preprocessor', o.preprocessing, `${P}.preprocessing`),
    seed: seedOf(o),
  };
}

function modelTraining(c: Collector, o: Obj): ModelTrainingConfig {
  onlyKeys(o, P, [
    'model',
    'features',
    'fromJob',
    'selectors',
    'preprocessing',
    'validation',
    'seed',
  ]);
  const m = c.method('model', o.model, `${P}.model`, ['tune']);
  const tune = given(m.tune) ? obj(m.tune, `${P}.model.tune`) : null;
  if (tune) onlyKeys(tune, `${P}.model.tune`, TUNE_KEYS);
  const def = LISTS.model().find(x => x.code === m.code)!;
  return {
    model: { code: m.code, args: m.args, tune: tune ? c.tune(tune, `${P}.model.tune`, def) : null },
    ...c.featureSource(o, P),
    selectors: c.selectorSteps(o.selectors, `${P}.selectors`, 0),
    preprocessing: c.methodList('preprocessor', o.preprocessing, `${P}.preprocessing`),
    validation: c.validation(o.validation, `${P}.validation`),
    seed: seedOf(o),
  };
}

function hyperparameterTuning(c: Collector, o: Obj): HyperparameterTuningConfig {
  onlyKeys(o, P, [
    'model',
    ...TUNE_KEYS,
    'validation',
    'features',
    'fromJob',
    'preprocessing',
    'seed',
  ]);
  const m = c.method('model', o.model, `${P}.model`);
  const def = LISTS.model().find(x => x.code === m.code)!;
  return {
    model: { code: m.code, args: m.args },
    ...c.tune(o, P, def),
    validation: c.validation(o.validation, `${P}.validation`),
    ...c.featureSource(o, P),
    preprocessing: c.methodList('preprocessor', o.preprocessing, `${P}.preprocessing`),
    seed: seedOf(o),
  };
}

function benchmarking(c: Collector, o: Obj): BenchmarkingConfig {
  onlyKeys(o, P, [
    'signatures',
    'selectors',
    'models',
    'preprocessing',
    'split',
    'cv',
    'metrics',
    'compareTop',
    'seed',
  ]);
  const signatures: BenchmarkSignature[] = given(o.signatures)
    ? list(o.signatures, `${P}.signatures`).map((x, i) => {
        const p = `${P}.signatures[${i}]`;
        const s = obj(x, p);
        onlyKeys(s, p, ['name', 'features', 'fromJob', 'selector']);
        const src = c.featureSource(s, p);
        const selector = given(s.selector) ? c.selectorStep(s.selector, `${p}.selector`) : null;
        const count = [src.features, src.fromJob, selector].filter(Boolean).length;
        if (count !== 1) {
          throw new ConfigError(p, 'give exactly one of features, fromJob or selector');
        }
        const name = given(s.name)
          ? str(s.name, `${p}.name`)
          : (selector?.code ?? `signature_${i + 1}`);
        return { name, ...src, selector };
      })
    : [];
  for (const s of c.selectorSteps(o.selectors, `${P}.selectors`, 0)) {
    signatures.push({ name: s.code, features: null, fromJob: null, selector: s });
  }
  if (signatures.length === 0) {
    throw new ConfigError(`${P}.signatures`, 'give signatures, selectors, or both');
  }
  const seen = new Set<string>();
  for (const [i, s] of signatures.entries()) {
    if (seen.has(s.name)) {
      throw new ConfigError(`${P}.signatures[${i}].name`, `duplicate signature name "${s.name}"`);
    }
    seen.add(s.name);
  }
  const cv = given(o.cv) ? obj(o.cv, `${P}.cv`) : {};
  onlyKeys(cv, `${P}.cv`, ['nSplits', 'nRepeats']);
  return {
    signatures,
    models: c.methodList('model', o.models, `${P}.models`, 1),
    preprocessing: c.methodList('preprocessor', o.preprocessing, `${P}.preprocessing`),
    split: c.splitter(o.split, `${P}.split`),
    cv: {
      nSplits: int(cv.nSplits, `${P}.cv.nSplits`, 2, 20, 5),
      nRepeats: int(cv.nRepeats, `${P}.cv.nRepeats`, 1, 20, 2),
    },
    metrics: c.metricCodes(o.metrics, `${P}.metrics`),
    compareTop: int(o.compareTop, `${P}.compareTop`, 2, 20, 3),
    seed: seedOf(o),
  };
}

function preprocessing(c: Collector, o: Obj): PreprocessingConfig {
  onlyKeys(o, P, ['steps']);
  return { steps: c.methodList('preprocessor', o.steps, `${P}.steps`, 1) };
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
