/**
 * Result documents → tables. One function per kind of table; `tablesFor` picks the ones a job
 * type has. Column sets are fixed per table (p-value columns stay, empty, for selectors without
 * p-values) so downstream scripts can rely on them; metric columns follow the job's metric list.
 */
import { positiveScores } from '../metrics/types';
import { type Cell, type PredictionSet, type ReportInput, type Table } from './types';
import { arr, cellOf, firstMap, num, numberMap, obj, str, type Json } from './read';

const P_VALUE_KEYS = ['pValues', 'p_value', 'p_values'];
const P_ADJUSTED_KEYS = ['adjustedPValues', 'p_adjusted'];

/** Features of a score map sorted best first (nulls last; ties keep the document's order). */
function ranked(scores: Map<string, number | null>): [string, number | null][] {
  return [...scores.entries()]
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const x = a.e[1];
      const y = b.e[1];
      if (x === null || y === null) return x === y ? a.i - b.i : x === null ? 1 : -1;
      return y - x || a.i - b.i;
    })
    .map(({ e }) => e);
}

/**
 * Per-feature rows of selector results (FEATURE_SELECTION selectors, MODEL_TRAINING selection
 * steps): rank by score, selected flag, stability frequency and p-values where the method has them.
 */
export function featureTable(selectors: Json[], name = 'features'): Table {
  const rows: Cell[][] = [];
  for (const s of selectors) {
    const code = str(s.selector) ?? str(s.code) ?? '';
    const scores = numberMap(s.scores) ?? new Map<string, number | null>();
    const selected = arr(s.selected).filter((x): x is string => typeof x === 'string');
    const selectedSet = new Set(selected);
    const diag = obj(s.diagnostics);
    const freq = firstMap(diag, ['frequency']);
    const p = firstMap(diag, P_VALUE_KEYS);
    const padj = firstMap(diag, P_ADJUSTED_KEYS);
    const order = ranked(scores);
    // Selected features missing from a truncated score map still get a row.
    for (const f of selected) if (!scores.has(f)) order.push([f, null]);
    order.forEach(([f, score], i) => {
      rows.push([
        code,
        f,
        i + 1,
        score,
        selectedSet.has(f),
        freq?.get(f) ?? null,
        p?.get(f) ?? null,
        padj?.get(f) ?? null,
      ]);
    });
  }
  return {
    name,
    columns: [
      'selector',
      'feature',
      'rank',
      'score',
      'selected',
      'frequency',
      'p_value',
      'p_adjusted',
    ],
    rows,
  };
}

/** Metric names of a set of score objects, in first-seen order. */
function metricNames(objs: (Json | null)[]): string[] {
  const names: string[] = [];
  for (const o of objs) for (const k of Object.keys(o ?? {})) if (!names.includes(k)) names.push(k);
  return names;
}

/** Per-fold metrics of a cross-validation result (`validation` / `nested`). */
export function foldTable(cv: Json, name = 'folds'): Table {
  const folds = arr(cv.folds)
    .map(obj)
    .filter((f): f is Json => f !== null);
  const metrics = metricNames(folds.map(f => obj(f.metrics)));
  const rows = folds.map(f => [
    num(f.fold) === null ? null : num(f.fold)! + 1,
    num(f.n_train),
    num(f.n_test),
    arr(f.selected).length,
    ...metrics.map(m => num(obj(f.metrics)?.[m])),
    num(f.seconds),
  ]);
  return {
    name,
    columns: ['fold', 'n_train', 'n_test', 'n_features', ...metrics, 'seconds'],
    rows,
  };
}

/** Mean and SD over folds per metric. */
export function metricSummaryTable(cv: Json, name = 'metrics'): Table {
  const mean = obj(cv.metrics) ?? {};
  const std = obj(cv.metrics_std) ?? {};
  return {
    name,
    columns: ['metric', 'mean', 'std'],
    rows: Object.keys(mean).map(m => [m, num(mean[m]), num(std[m])]),
  };
}

/** Tuning trials: one row per trial, one `param_<name>` column per tuned parameter. */
export function trialsTable(tune: Json, name = 'tuning_trials'): Table {
  const trials = arr(tune.trials)
    .map(obj)
    .filter((t): t is Json => t !== null);
  const params: string[] = [];
  for (const t of trials)
    for (const k of Object.keys(obj(t.params) ?? {})) if (!params.includes(k)) params.push(k);
  const best = num(tune.best_score);
  const rows = trials.map(t => [
    num(t.number),
    str(t.state),
    num(t.score),
    best !== null && num(t.score) === best,
    ...params.map(p => cellOf(obj(t.params)?.[p])),
    num(t.seconds),
    str(t.error),
  ]);
  return {
    name,
    columns: [
      'trial',
      'state',
      'score',
      'best',
      ...params.map(p => `param_${p}`),
      'seconds',
      'error',
    ],
    rows,
  };
}

const PARTS = ['train', 'cv', 'cv_std', 'test', 'validation'] as const;

/** Benchmark signature × model table: one column per split part and metric. */
export function benchmarkTable(bench: Json, name = 'benchmark'): Table {
  const rows = arr(bench.table)
    .map(obj)
    .filter((r): r is Json => r !== null);
  const metrics = arr(bench.metrics).filter((m): m is string => typeof m === 'string');
  const cols = PARTS.flatMap(part => metrics.map(m => `${part}_${m}`));
  return {
    name,
    columns: ['signature', 'model', 'n_features', ...cols],
    rows: rows.map(r => [
      str(r.signature),
      str(r.model),
      num(r.n_features),
      ...PARTS.flatMap(part => metrics.map(m => num(obj(r[part])?.[m]))),
    ]),
  };
}

/**
 * Benchmark per-fold scores: one row per signature × model × CV fold (`table[].cv_folds`), the
 * held-out metrics the `cv_` means / `cv_std_` SDs are computed from, then the fold model's
 * training-row scores (`train_<metric>`). `repeat` and `fold` are 1-based, as in `folds` of the
 * other job types.
 */
export function benchmarkFoldTable(bench: Json, name = 'folds'): Table {
  const rows = arr(bench.table)
    .map(obj)
    .filter((r): r is Json => r !== null);
  const folds = rows.flatMap(r =>
    arr(r.cv_folds)
      .map(obj)
      .filter((f): f is Json => f !== null)
      .map(f => ({ r, f })),
  );
  const listed = arr(bench.metrics).filter((m): m is string => typeof m === 'string');
  const metrics = listed.length ? listed : metricNames(folds.map(x => obj(x.f.metrics)));
  const hasTrain = folds.some(x => obj(x.f.train_metrics) !== null);
  const plus1 = (v: unknown): number | null => (num(v) === null ? null : num(v)! + 1);
  return {
    name,
    columns: [
      'signature',
      'model',
      'repeat',
      'fold',
      'n_train',
      'n_test',
      'n_features',
      ...metrics,
      ...(hasTrain ? metrics.map(m => `train_${m}`) : []),
    ],
    rows: folds.map(({ r, f }) => [
      str(r.signature),
      str(r.model),
      plus1(f.repeat),
      plus1(f.fold),
      num(f.n_train),
      num(f.n_test),
      Array.isArray(f.selected) ? f.selected.length : null,
      ...metrics.map(m => num(obj(f.metrics)?.[m])),
      ...(hasTrain ? metrics.map(m => num(obj(f.train_metrics)?.[m])) : []),
    ]),
  };
}

/** Benchmark signatures with their ranking (and the recommended one flagged). */
export function signatureTable(bench: Json, name = 'signatures'): Table {
  const sigs = arr(bench.signatures)
    .map(obj)
    .filter((s): s is Json => s !== null);
  const rec = str(obj(bench.recommended)?.signature);
  return {
    name,
    columns: [
      'signature',
      'source',
      'selector',
      'n_features',
      'metaindex',
      'metaindex_without_train',
      'validation_youden',
      'cv_score',
      'cv_score_std',
      'rank_metaindex',
      'rank_youden',
      'recommended',
      'features',
    ],
    rows: sigs.map(s => [
      str(s.name),
      str(s.source),
      str(s.selector),
      num(s.n_features),
      num(s.metaindex),
      num(s.metaindex_without_train),
      num(s.validation_youden),
      num(s.cv_score),
      num(s.cv_score_std),
      num(s.rank_metaindex),
      num(s.rank_youden),
      rec !== null && s.name === rec,
      arr(s.features).join(';'),
    ]),
  };
}

export function comparisonTable(bench: Json, name = 'comparisons'): Table {
  const rows = arr(bench.comparisons)
    .map(obj)
    .filter((c): c is Json => c !== null);
  return {
    name,
    columns: ['a', 'b', 'metric', 'mean_difference', 't', 'df', 'p_value', 'n_splits'],
    rows: rows.map(c => [
      str(c.a),
      str(c.b),
      str(c.metric),
      num(c.mean_difference),
      num(c.t),
      num(c.df),
      num(c.p_value),
      num(c.n_splits),
    ]),
  };
}

/** Held-out predictions of every set, one row per sample and set. */
export function predictionTable(
  sets: readonly PredictionSet[],
  name = 'predictions',
): Table | null {
  const rows: Cell[][] = [];
  const classCols: string[] = [];
  let kind: string | null = null;
  for (const s of sets) {
    for (const p of s.parts) {
      kind ??= p.prediction.kind;
      if (p.prediction.kind === 'class') {
        for (const c of p.prediction.classes) if (!classCols.includes(c)) classCols.push(c);
      }
    }
  }
  if (kind === null) return null;
  const multi = sets.length > 1 || sets.some(s => s.signature !== undefined);
  for (const s of sets) {
    for (const p of s.parts) {
      const pr = p.prediction;
      const t = p.truth;
      p.sampleIds.forEach((id, i) => {
        let truth: Cell = null;
        if (t.kind === 'binary' || t.kind === 'multiclass') truth = t.classes[t.labels[i]!] ?? null;
        else if (t.kind === 'continuous') truth = num(t.values[i]);
        const head: Cell[] = [
          ...(multi ? [s.signature ?? null, s.model ?? s.label] : []),
          p.group,
          id,
          truth,
        ];
        if (pr.kind === 'class') {
          const k = pr.classes.length;
          const proba = classCols.map(c => {
            const j = pr.classes.indexOf(c);
            return j < 0 ? null : num(pr.proba[i * k + j]);
          });
          rows.push([...head, pr.classes[pr.labels[i]!] ?? null, ...proba]);
        } else if (pr.kind === 'value') {
          rows.push([...head, num(pr.values[i])]);
        } else if (t.kind === 'survival') {
          rows.push([...head, num(t.time[i]), t.event[i] === 1, num(pr.risk[i])]);
        } else rows.push([...head, null, null, num(pr.risk[i])]);
      });
    }
  }
  const lead = [...(multi ? ['signature', 'model'] : []), 'group', 'sample_id', 'truth'];
  const tail =
    kind === 'class'
      ? ['predicted', ...classCols.map(c => `proba_${c}`)]
      : kind === 'value'
        ? ['predicted']
        : ['time', 'event', 'risk'];
  return { name, columns: [...lead, ...tail], rows };
}

/** PREDICTION job rows (`{sampleId, label, proba} | {sampleId, value} | {sampleId, risk}`). */
export function predictionRowsTable(data: Json, name = 'predictions'): Table | null {
  const rows = arr(data.predictions)
    .map(obj)
    .filter((r): r is Json => r !== null);
  if (rows.length === 0) return null;
  const first = rows[0]!;
  if ('label' in first) {
    const classes = Object.keys(obj(first.proba) ?? {});
    return {
      name,
      columns: ['sample_id', 'predicted', ...classes.map(c => `proba_${c}`)],
      rows: rows.map(r => [
        str(r.sampleId),
        str(r.label),
        ...classes.map(c => num(obj(r.proba)?.[c])),
      ]),
    };
  }
  const key = 'value' in first ? 'value' : 'risk';
  return {
    name,
    columns: ['sample_id', key === 'value' ? 'predicted' : 'risk'],
    rows: rows.map(r => [str(r.sampleId), num(r[key])]),
  };
}

/** A flat metric → value map (PREDICTION metrics). */
export function metricMapTable(m: Json, name = 'metrics'): Table {
  return { name, columns: ['metric', 'value'], rows: Object.keys(m).map(k => [k, num(m[k])]) };
}

/** The trained model's features with importance (and the CV selection frequency). */
export function modelFeatureTable(data: Json, name = 'model_features'): Table {
  const features = arr(data.features).filter((f): f is string => typeof f === 'string');
  const importance = numberMap(data.importance);
  const freq = numberMap(obj(data.validation)?.selection_frequency);
  const order = importance ? ranked(importance).map(([f]) => f) : [];
  const rank = new Map(order.map((f, i) => [f, i + 1]));
  const all = [...features];
  for (const f of freq?.keys() ?? []) if (!all.includes(f)) all.push(f);
  return {
    name,
    columns: ['feature', 'in_model', 'importance', 'importance_rank', 'cv_selection_frequency'],
    rows: all.map(f => [
      f,
      features.includes(f),
      importance?.get(f) ?? null,
      rank.get(f) ?? null,
      freq?.get(f) ?? null,
    ]),
  };
}

/** All tables of one job's result (empty tables are dropped). */
export function tablesFor(input: ReportInput): Table[] {
  const d = input.data;
  const out: (Table | null)[] = [];
  const preds = input.predictions?.length ? predictionTable(input.predictions) : null;
  switch (input.type) {
    case 'FEATURE_SELECTION':
      out.push(
        featureTable(
          arr(d.selectors)
            .map(obj)
            .filter((s): s is Json => s !== null),
        ),
      );
      break;
    case 'MODEL_TRAINING': {
      out.push(modelFeatureTable(d));
      const sel = arr(d.selection)
        .map(obj)
        .filter((s): s is Json => s !== null);
      if (sel.length) out.push(featureTable(sel, 'selection'));
      const cv = obj(d.validation);
      if (cv) out.push(foldTable(cv), metricSummaryTable(cv));
      out.push(preds);
      const tune = obj(d.tuning);
      if (tune) out.push(trialsTable(tune));
      break;
    }
    case 'HYPERPARAMETER_TUNING': {
      out.push(trialsTable(d));
      out.push(preds);
      const nested = obj(d.nested);
      if (nested) out.push(foldTable(nested), metricSummaryTable(nested));
      break;
    }
    case 'BENCHMARKING':
      out.push(
        benchmarkTable(d),
        signatureTable(d),
        comparisonTable(d),
        benchmarkFoldTable(d),
        preds,
      );
      break;
    case 'PREDICTION': {
      out.push(preds ?? predictionRowsTable(d));
      const m = obj(d.metrics);
      if (m) out.push(metricMapTable(m));
      break;
    }
    case 'PREPROCESSING':
      break;
  }
  return out.filter((t): t is Table => t !== null && t.rows.length > 0);
}

/** Positive-class scores of a binary prediction (null when it is not one). */
export function binaryScores(p: PredictionSet['parts'][number]): {
  labels: Int32Array;
  scores: Float64Array;
} | null {
  if (p.truth.kind !== 'binary' || p.prediction.kind !== 'class') return null;
  if (p.prediction.classes.length !== 2) return null;
  return { labels: p.truth.labels, scores: positiveScores(p.prediction) };
}
