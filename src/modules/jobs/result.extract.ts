/**
 * Typed rows out of a stored result document. Each job type's runner (src/workers/runners) writes
 * its own shape; this reads it defensively (a missing or odd field gives an empty list, never an
 * error), so documents written by older runners keep resolving. Pure: no I/O, no GraphQL.
 *
 * Where each table comes from:
 * - features: FEATURE_SELECTION `selectors[].scores/selected/diagnostics`; MODEL_TRAINING the
 *   final model's `features` + `importance` (source "model") and `selection[]` steps, with
 *   `validation.selection_frequency`; BENCHMARKING the signatures' feature lists.
 * - folds: `validation.folds` (MODEL_TRAINING), `nested.folds` (HYPERPARAMETER_TUNING), each
 *   `table[].cv_folds` (BENCHMARKING: per signature × model, in the benchmark rows' order).
 * - benchmark / recommended / comparisons: BENCHMARKING `table`, `signatures`, `recommended`.
 * - tuning: HYPERPARAMETER_TUNING (the document itself) or MODEL_TRAINING `tuning`.
 * - predictions: PREDICTION `predictions`.
 */
import { type JobTypeName } from './job.model.js';

type Obj = Record<string, unknown>;

export interface FeatureRow {
  source: string;
  name: string;
  rank: number;
  score: number | null;
  selected: boolean;
  frequency: number | null;
  pValue: number | null;
  adjustedPValue: number | null;
  statistic: number | null;
  votes: number | null;
}

export interface Metric {
  name: string;
  value: number | null;
  std: number | null;
}

export interface FoldRow {
  /** BENCHMARKING: the signature × model the fold belongs to. */
  signature: string | null;
  /** Model code (BENCHMARKING: the row's; MODEL_TRAINING / tuning: the job's). */
  model: string | null;
  index: number;
  repeat: number;
  fold: number;
  nTrain: number | null;
  nTest: number | null;
  metrics: Metric[];
  trainMetrics: Metric[] | null;
  selected: string[];
  modelParams: Obj | null;
  tuning: Obj | null;
  seconds: number | null;
}

export interface BenchRow {
  signature: string;
  features: string[];
  nFeatures: number;
  model: string;
  train: Metric[];
  cv: Metric[];
  test: Metric[];
  validation: Metric[];
  metaindex: number | null;
  metaindexMetric: string | null;
  rank: number | null;
  validationYouden: number | null;
  rankYouden: number | null;
}

export interface SignatureRow {
  name: string;
  features: string[];
  source: string | null;
  selector: string | null;
}

export interface TrialRow {
  number: number;
  params: Obj;
  score: number | null;
  scoresPerFold: number[];
  state: string;
  error: string | null;
  seconds: number | null;
}

export interface Tuning {
  model: string;
  strategy: string;
  metric: string;
  greaterIsBetter: boolean;
  bestParams: Obj;
  bestScore: number | null;
  stoppedBy: string | null;
  nTrials: number;
  trials: TrialRow[];
}

export interface PredictionRow {
  sampleId: string;
  label: string | null;
  probabilities: { label: string; probability: number | null }[] | null;
  value: number | null;
  risk: number | null;
}

export interface RecommendationRow {
  signature: string;
  features: string[];
  metaindex: number | null;
  validationYouden: number | null;
  cvScore: number | null;
  reasons: string[];
}

export interface ComparisonRow {
  a: string;
  b: string;
  metric: string;
  meanDifference: number | null;
  t: number | null;
  df: number | null;
  pValue: number | null;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

/** A per-feature map from diagnostics, trying the key spellings the selectors use. */
function featureMap(diag: Obj, keys: readonly string[]): Obj | null {
  for (const k of keys) if (isObj(diag[k])) return diag[k];
  return null;
}

const P_KEYS = ['pValues', 'p_value', 'p_values', 'pValue'];
const ADJ_KEYS = ['adjustedPValues', 'p_adjusted', 'adjusted_p_values', 'p_adj'];
const FREQ_KEYS = ['frequency', 'selection_frequency'];
const STAT_KEYS = ['statistic', 'statistics', 'z'];
const VOTE_KEYS = ['votes'];

/** Descending by score, NaN/null last, ties by name (stable across runs). */
function byScore(scores: Obj): [string, number | null][] {
  return Object.entries(scores)
    .map(([k, v]): [string, number | null] => [k, num(v)])
    .sort(([ka, a], [kb, b]) =>
      a === null
        ? b === null
          ? ka.localeCompare(kb)
          : 1
        : b === null
          ? -1
          : b - a || ka.localeCompare(kb),
    );
}

interface SourceSpec {
  source: string;
  scores: Obj;
  selected: string[];
  diagnostics: Obj;
  frequency?: Obj | null;
}

function rowsOfSource(s: SourceSpec): FeatureRow[] {
  const p = featureMap(s.diagnostics, P_KEYS);
  const adj = featureMap(s.diagnostics, ADJ_KEYS);
  const freq = s.frequency ?? featureMap(s.diagnostics, FREQ_KEYS);
  const stat = featureMap(s.diagnostics, STAT_KEYS);
  const votes = featureMap(s.diagnostics, VOTE_KEYS);
  const selected = new Set(s.selected);
  const ranked = byScore(s.scores);
  // Selected features missing from a truncated score map still get a row (after the scored ones).
  const seen = new Set(ranked.map(([f]) => f));
  for (const f of s.selected) if (!seen.has(f)) ranked.push([f, null]);
  return ranked.map(([name, score], i) => ({
    source: s.source,
    name,
    rank: i + 1,
    score,
    selected: selected.has(name),
    frequency: freq ? num(freq[name]) : null,
    pValue: p ? num(p[name]) : null,
    adjustedPValue: adj ? num(adj[name]) : null,
    statistic: stat ? num(stat[name]) : null,
    votes: votes ? num(votes[name]) : null,
  }));
}

/** A plain list (no scores): rank = list order, all selected. */
function rowsOfList(source: string, features: string[], frequency: Obj | null): FeatureRow[] {
  return features.map((name, i) => ({
    source,
    name,
    rank: i + 1,
    score: null,
    selected: true,
    frequency: frequency ? num(frequency[name]) : null,
    pValue: null,
    adjustedPValue: null,
    statistic: null,
    votes: null,
  }));
}

export function featureRows(type: JobTypeName, data: Obj): FeatureRow[] {
  if (type === 'FEATURE_SELECTION') {
    return arr(data.selectors)
      .filter(isObj)
      .flatMap(s =>
        rowsOfSource({
          source: str(s.selector) ?? 'selector',
          scores: obj(s.scores),
          selected: strings(s.selected),
          diagnostics: obj(s.diagnostics),
        }),
      );
  }
  if (type === 'MODEL_TRAINING') {
    const validation = obj(data.validation);
    const freq = isObj(validation.selection_frequency) ? validation.selection_frequency : null;
    const features = strings(data.features);
    const out: FeatureRow[] = [];
    if (isObj(data.importance)) {
      // Importance of the final model: its own features only.
      const inModel = new Set(features);
      const scores = Object.fromEntries(
        Object.entries(data.importance).filter(([f]) => inModel.has(f)),
      );
      out.push(
        ...rowsOfSource({
          source: 'model',
          scores,
          selected: features,
          diagnostics: {},
          frequency: freq,
        }),
      );
    } else out.push(...rowsOfList('model', features, freq));
    for (const s of arr(data.selection).filter(isObj)) {
      out.push(
        ...rowsOfSource({
          source: str(s.code) ?? 'selector',
          scores: obj(s.scores),
          selected: strings(s.selected),
          diagnostics: obj(s.diagnostics),
          frequency: freq,
        }),
      );
    }
    return out;
  }
  if (type === 'BENCHMARKING') {
    return signatureRows(type, data).flatMap(s => rowsOfList(s.name, s.features, null));
  }
  return [];
}

export function signatureRows(type: JobTypeName, data: Obj): SignatureRow[] {
  if (type !== 'FEATURE_SELECTION' && type !== 'BENCHMARKING') return [];
  return arr(data.signatures)
    .filter(isObj)
    .map(s => ({
      name: str(s.name) ?? '',
      features: strings(s.features),
      source: str(s.source) ?? (type === 'FEATURE_SELECTION' ? 'selector' : null),
      selector: str(s.selector) ?? (type === 'FEATURE_SELECTION' ? str(s.name) : null),
    }));
}

/** `{name: value}` (+ `{name: std}`) → metric list, in the document's key order. */
export function metricList(values: unknown, stds?: unknown): Metric[] {
  const sd = obj(stds);
  return Object.entries(obj(values)).map(([name, v]) => ({
    name,
    value: num(v),
    std: num(sd[name]),
  }));
}

/** Where a job type keeps its cross-validation (MODEL_TRAINING: validation; tuning: nested). */
function cvOf(type: JobTypeName, data: Obj): Obj | null {
  if (type === 'MODEL_TRAINING' && isObj(data.validation)) return data.validation;
  if (type === 'HYPERPARAMETER_TUNING' && isObj(data.nested)) return data.nested;
  return null;
}

/** Folds per repeat for the configured splitter (repeat-major order), else null (one repeat). */
function foldsPerRepeat(config: Obj): number | null {
  const splitter = obj(obj(config.validation).splitter);
  const code = str(splitter.code) ?? '';
  const args = obj(splitter.args);
  // `repeated` lists its folds repeat-major; any splitter with n_repeats > 1 is read the same way.
  if (code !== 'repeated' && (num(args.n_repeats) ?? 1) <= 1) return null;
  const n = num(args.n_splits) ?? 5; // the `repeated` splitter's default
  return n >= 1 ? n : null;
}

/** BENCHMARKING: `cv_folds` of every signature × model row (repeat / fold as stored). */
function benchmarkFoldRows(data: Obj): FoldRow[] {
  return rankedTable(data).flatMap(r =>
    arr(r.cv_folds)
      .filter(isObj)
      .map((f, i) => ({
        signature: str(r.signature) ?? '',
        model: str(r.model) ?? '',
        index: i,
        repeat: num(f.repeat) ?? 0,
        fold: num(f.fold) ?? i,
        nTrain: num(f.n_train),
        nTest: num(f.n_test),
        metrics: metricList(f.metrics),
        trainMetrics: isObj(f.train_metrics) ? metricList(f.train_metrics) : null,
        selected: strings(f.selected),
        modelParams: null,
        tuning: null,
        seconds: null,
      })),
  );
}

export function foldRows(type: JobTypeName, data: Obj, config: Obj): FoldRow[] {
  if (type === 'BENCHMARKING') return benchmarkFoldRows(data);
  const cv = cvOf(type, data);
  if (!cv) return [];
  const perRepeat = foldsPerRepeat(config);
  const model = str(data.model);
  return arr(cv.folds)
    .filter(isObj)
    .map((f, i) => {
      const index = num(f.fold) ?? i;
      return {
        signature: null,
        model,
        index,
        repeat: perRepeat ? Math.floor(index / perRepeat) : 0,
        fold: perRepeat ? index % perRepeat : index,
        nTrain: num(f.n_train),
        nTest: num(f.n_test),
        metrics: metricList(f.metrics),
        trainMetrics: isObj(f.train_metrics) ? metricList(f.train_metrics) : null,
        selected: strings(f.selected),
        modelParams: isObj(f.model_params) ? f.model_params : null,
        tuning: isObj(f.tuning) ? f.tuning : null,
        seconds: num(f.seconds),
      };
    });
}

/** Headline metrics: the CV means (± SD over folds), or PREDICTION's scores on its dataset. */
export function metricRows(type: JobTypeName, data: Obj): Metric[] {
  if (type === 'PREDICTION') return metricList(data.metrics);
  const cv = cvOf(type, data);
  return cv ? metricList(cv.metrics, cv.metrics_std) : [];
}

function signatureMap(data: Obj): Map<string, Obj> {
  return new Map(
    arr(data.signatures)
      .filter(isObj)
      .map(s => [str(s.name) ?? '', s] as const),
  );
}

/** The benchmark table's rows, best signature (metaindex rank) first; the runner's model order within a signature. */
function rankedTable(data: Obj): Obj[] {
  const sigs = signatureMap(data);
  const rankOf = (r: Obj): number =>
    num(sigs.get(str(r.signature) ?? '')?.rank_metaindex) ?? Infinity;
  return arr(data.table)
    .filter(isObj)
    .map((r, i) => ({ r, i, rank: rankOf(r) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map(x => x.r);
}

export function benchmarkRows(type: JobTypeName, data: Obj): BenchRow[] {
  if (type !== 'BENCHMARKING') return [];
  const sigs = signatureMap(data);
  return rankedTable(data).map(r => {
    const sig = sigs.get(str(r.signature) ?? '') ?? {};
    const features = strings(sig.features);
    return {
      signature: str(r.signature) ?? '',
      features,
      nFeatures: num(r.n_features) ?? features.length,
      model: str(r.model) ?? '',
      train: metricList(r.train),
      cv: metricList(r.cv, r.cv_std),
      test: metricList(r.test),
      validation: metricList(r.validation),
      metaindex: num(sig.metaindex),
      metaindexMetric: str(sig.metaindex_metric),
      rank: num(sig.rank_metaindex),
      validationYouden: num(sig.validation_youden),
      rankYouden: num(sig.rank_youden),
    };
  });
}

export function recommendation(type: JobTypeName, data: Obj): RecommendationRow | null {
  if (type !== 'BENCHMARKING' || !isObj(data.recommended)) return null;
  const r = data.recommended;
  return {
    signature: str(r.signature) ?? '',
    features: strings(r.features),
    metaindex: num(r.metaindex),
    validationYouden: num(r.validation_youden),
    cvScore: num(r.cv_score),
    reasons: strings(r.reasons),
  };
}

export function comparisonRows(type: JobTypeName, data: Obj): ComparisonRow[] {
  if (type !== 'BENCHMARKING') return [];
  return arr(data.comparisons)
    .filter(isObj)
    .map(c => ({
      a: str(c.a) ?? '',
      b: str(c.b) ?? '',
      metric: str(c.metric) ?? '',
      meanDifference: num(c.mean_difference),
      t: num(c.t),
      df: num(c.df),
      pValue: num(c.p_value),
    }));
}

export function tuningOf(type: JobTypeName, data: Obj): Tuning | null {
  const t =
    type === 'HYPERPARAMETER_TUNING' ? data : type === 'MODEL_TRAINING' ? obj(data.tuning) : {};
  if (!Array.isArray(t.trials)) return null;
  const trials = arr(t.trials)
    .filter(isObj)
    .map((x, i) => ({
      number: num(x.number) ?? i,
      params: obj(x.params),
      score: num(x.score),
      scoresPerFold: arr(x.scores_per_fold)
        .map(num)
        .filter((v): v is number => v !== null),
      state: str(x.state) ?? 'complete',
      error: str(x.error),
      seconds: num(x.seconds),
    }));
  return {
    model: str(t.model) ?? str(data.model) ?? '',
    strategy: str(t.strategy) ?? '',
    metric: str(t.metric) ?? '',
    greaterIsBetter: t.greater_is_better !== false,
    bestParams: obj(t.best_params),
    bestScore: num(t.best_score),
    stoppedBy: str(t.stopped_by),
    nTrials: trials.length,
    trials,
  };
}

/** The parameters the job chose: the trained model's (tuned where tuning ran) or the search's best. */
export function chosenParams(type: JobTypeName, data: Obj): Obj | null {
  if (type === 'MODEL_TRAINING' && isObj(data.params)) return data.params;
  if (type === 'HYPERPARAMETER_TUNING' && isObj(data.best_params)) return data.best_params;
  return null;
}

export function predictionCount(type: JobTypeName, data: Obj): number {
  return type === 'PREDICTION' ? arr(data.predictions).length : 0;
}

export function predictionRows(
  type: JobTypeName,
  data: Obj,
  offset: number,
  first: number,
): PredictionRow[] {
  if (type !== 'PREDICTION') return [];
  return arr(data.predictions)
    .slice(offset, offset + first)
    .filter(isObj)
    .map(p => ({
      sampleId: str(p.sampleId) ?? '',
      label: str(p.label),
      probabilities: isObj(p.proba)
        ? Object.entries(p.proba).map(([label, v]) => ({ label, probability: num(v) }))
        : null,
      value: num(p.value),
      risk: num(p.risk),
    }));
}
