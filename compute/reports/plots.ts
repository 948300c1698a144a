/**
 * Which SVG plots a job result gets, built from the result document and held-out predictions:
 *  - importance bars (top N by score / model importance), selected features highlighted;
 *  - stability-selection frequencies with the threshold line;
 *  - ROC curves (binary outcomes) from held-out predictions, computed with metrics/ranking;
 *  - benchmark heatmaps (signature × model) of the headline metric, CV and held-out;
 *  - Kaplan–Meier curves of predicted high / low risk (median split) for survival outcomes.
 * A plot whose data is not in the result (no held-out predictions, one class only …) is skipped.
 */
import { findMetric } from '../metrics';
import { rocAuc, rocCurve } from '../metrics/ranking';
import { kaplanMeier, kmSteps, logRank, median } from './km';
import { arr, num, numberMap, obj, str, type Json } from './read';
import { barChart, type Bar } from './svg/bars';
import { label } from './svg/doc';
import { heatmap } from './svg/heatmap';
import { lineChart, type Series } from './svg/lines';
import { binaryScores } from './tables';
import { type PredictionSet, type ReportInput } from './types';

export interface Plot {
  /** File stem (unique within one job's plots). */
  name: string;
  svg: string;
}

/** File-name-safe stem: lower-case [a-z0-9_-], unique within `taken`. */
export function slug(s: string, taken: Set<string>): string {
  const base =
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'plot';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

function topBars(scores: Map<string, number | null>, n: number, selected?: Set<string>): Bar[] {
  return [...scores.entries()]
    .filter((e): e is [string, number] => e[1] !== null)
    .map((e, i) => ({ e, i }))
    .sort((a, b) => b.e[1] - a.e[1] || a.i - b.i)
    .slice(0, n)
    .map(({ e: [f, v] }) => ({ label: f, value: v, highlight: selected ? selected.has(f) : true }));
}

// --- ROC ------------------------------------------------------------------------------------

/** Pooled labels / scores of a set's binary parts (null when not binary or one class only). */
function pooledBinary(set: PredictionSet): { labels: number[]; scores: number[] } | null {
  const labels: number[] = [];
  const scores: number[] = [];
  for (const p of set.parts) {
    const b = binaryScores(p);
    if (!b) return null;
    for (let i = 0; i < b.labels.length; i++) {
      if (!Number.isFinite(b.scores[i]!)) continue;
      labels.push(b.labels[i]!);
      scores.push(b.scores[i]!);
    }
  }
  const pos = labels.filter(l => l === 1).length;
  return pos > 0 && pos < labels.length ? { labels, scores } : null;
}

/**
 * Drop points lying on a straight segment between their neighbours (as sklearn's
 * drop_intermediate): the drawn curve is the same, the file stays small for large n.
 */
export function dropCollinear(pts: readonly [number, number][]): [number, number][] {
  if (pts.length <= 2) return [...pts];
  const out: [number, number][] = [pts[0]!];
  for (let i = 1; i < pts.length - 1; i++) {
    const [x0, y0] = out[out.length - 1]!;
    const [x1, y1] = pts[i]!;
    const [x2, y2] = pts[i + 1]!;
    if ((x1 - x0) * (y2 - y1) !== (y1 - y0) * (x2 - x1)) out.push(pts[i]!);
  }
  out.push(pts[pts.length - 1]!);
  return out;
}

const maxOf = (x: readonly number[]): number => x.reduce((m, v) => (v > m ? v : m), -Infinity);

/** One-vs-rest labels / scores per class of a multiclass set (pooled over parts). */
function oneVsRest(set: PredictionSet): { cls: string; labels: number[]; scores: number[] }[] {
  const p0 = set.parts[0];
  if (!p0 || p0.truth.kind !== 'multiclass' || p0.prediction.kind !== 'class') return [];
  const classes = p0.prediction.classes;
  const out = classes.map(cls => ({ cls, labels: [] as number[], scores: [] as number[] }));
  for (const p of set.parts) {
    const t = p.truth;
    const pr = p.prediction;
    if (t.kind !== 'multiclass' || pr.kind !== 'class') return [];
    const k = pr.classes.length;
    for (let i = 0; i < t.labels.length; i++) {
      const truth = t.classes[t.labels[i]!];
      classes.forEach((cls, c) => {
        const j = pr.classes.indexOf(cls);
        const v = j < 0 ? NaN : pr.proba[i * k + j]!;
        if (!Number.isFinite(v)) return;
        out[c]!.labels.push(truth === cls ? 1 : 0);
        out[c]!.scores.push(v);
      });
    }
  }
  return out.filter(o => o.labels.some(l => l === 1) && o.labels.some(l => l === 0));
}

function rocSeries(name: string, labels: number[], scores: number[]): Series {
  const c = rocCurve(labels, scores);
  const all: [number, number][] = [];
  for (let i = 0; i < c.fpr.length; i++) all.push([c.fpr[i]!, c.tpr[i]!]);
  return { label: `${name} (AUC ${label(rocAuc(labels, scores))})`, points: dropCollinear(all) };
}

/**
 * Macro-average one-vs-rest ROC curve: the pointwise mean of the per-class curves (each linear
 * between its points) on the union of their false positive rates. At every such rate both the
 * left limit and the value are averaged, so vertical steps are kept and the area under the mean
 * curve is exactly the mean of the per-class AUCs (scikit-learn's `roc_auc_ovr`, macro), which the
 * legend shows.
 */
export function macroRoc(ovr: readonly { labels: number[]; scores: number[] }[]): {
  points: [number, number][];
  auc: number;
} | null {
  if (ovr.length === 0) return null;
  const curves = ovr.map(o => rocCurve(o.labels, o.scores));
  const grid = [...new Set(curves.flatMap(c => Array.from(c.fpr)))].sort((a, b) => a - b);
  // Per curve at x: the TPR on arriving at x (left limit) and the highest TPR at x. Every curve
  // runs from (0, 0) to (1, 1) (each class has both labels), so x lies within it. The grid is
  // sorted, so one cursor per curve sweeps it in linear time.
  const cursor = curves.map(() => 0);
  const points: [number, number][] = [];
  for (const x of grid) {
    let lo = 0;
    let hi = 0;
    curves.forEach(({ fpr, tpr }, c) => {
      const last = fpr.length - 1;
      let j = cursor[c]!;
      while (j < last && fpr[j]! < x) j++;
      cursor[c] = j;
      if (fpr[j] === x || j === 0 || fpr[j]! < x) {
        let k = j;
        while (k < last && fpr[k + 1] === x) k++;
        lo += tpr[j]!;
        hi += tpr[k]!;
      } else {
        // strictly between two points: linear interpolation (no step here)
        const x0 = fpr[j - 1]!;
        const v = tpr[j - 1]! + ((tpr[j]! - tpr[j - 1]!) * (x - x0)) / (fpr[j]! - x0);
        lo += v;
        hi += v;
      }
    });
    points.push([x, lo / curves.length]);
    if (hi !== lo) points.push([x, hi / curves.length]);
  }
  const auc = ovr.reduce((a, o) => a + rocAuc(o.labels, o.scores), 0) / ovr.length;
  return { points: dropCollinear(points), auc };
}

export function rocPlot(title: string, sets: readonly PredictionSet[]): string | null {
  const series: Series[] = [];
  // A single multiclass model: one one-vs-rest curve per class.
  const ovr = sets.length === 1 ? oneVsRest(sets[0]!) : [];
  if (ovr.length) {
    return lineChart({
      title,
      subtitle: `${sets[0]!.source}; one class vs the rest`,
      xLabel: 'False positive rate (1 − specificity)',
      yLabel: 'True positive rate (sensitivity)',
      series: ovr.map(o => rocSeries(`${o.cls} vs rest`, o.labels, o.scores)),
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: true,
    });
  }
  for (const s of sets) {
    const b = pooledBinary(s);
    if (!b) continue;
    series.push(rocSeries(s.label, b.labels, b.scores));
  }
  // Several multiclass models (a benchmark's signatures × models): one macro one-vs-rest curve each.
  if (series.length === 0 && sets.length > 1) {
    for (const s of sets) {
      const m = macroRoc(oneVsRest(s));
      if (m) series.push({ label: `${s.label} (macro OvR AUC ${label(m.auc)})`, points: m.points });
    }
    if (series.length === 0) return null;
    return lineChart({
      title,
      subtitle: `${sets[0]!.source}; macro average of the one-vs-rest curves`,
      xLabel: 'False positive rate (1 − specificity)',
      yLabel: 'True positive rate (sensitivity)',
      series,
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: true,
    });
  }
  if (series.length === 0) return null;
  const first = sets[0]!;
  const positive =
    first.parts[0]?.truth.kind === 'binary' ? first.parts[0].truth.classes[1] : 'positive';
  return lineChart({
    title,
    subtitle: `${first.source}; positive class: ${positive}`,
    xLabel: 'False positive rate (1 − specificity)',
    yLabel: 'True positive rate (sensitivity)',
    series,
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
  });
}

// --- Kaplan–Meier ---------------------------------------------------------------------------

/**
 * High / low predicted risk by a median split within each part (each CV fold's model has its own
 * risk scale), then pooled. Ties at the median go to the low-risk group.
 */
export function riskGroups(
  set: PredictionSet,
): { time: number[]; event: number[]; high: number[] } | null {
  const time: number[] = [];
  const event: number[] = [];
  const high: number[] = [];
  for (const p of set.parts) {
    if (p.truth.kind !== 'survival' || p.prediction.kind !== 'risk') return null;
    const risk = p.prediction.risk;
    const truth = p.truth;
    const idx: number[] = [];
    for (let i = 0; i < risk.length; i++) {
      if (Number.isFinite(risk[i]!) && Number.isFinite(truth.time[i]!)) idx.push(i);
    }
    if (idx.length < 2) continue;
    const m = median(idx.map(i => risk[i]!));
    for (const i of idx) {
      time.push(truth.time[i]!);
      event.push(truth.event[i]!);
      high.push(risk[i]! > m ? 1 : 0);
    }
  }
  const nHigh = high.reduce((a, b) => a + b, 0);
  return nHigh > 0 && nHigh < high.length ? { time, event, high } : null;
}

export function kmPlot(title: string, set: PredictionSet): string | null {
  const g = riskGroups(set);
  if (!g) return null;
  const tEnd = maxOf(g.time);
  const series: Series[] = [];
  for (const [grp, name, dash] of [
    [0, 'Low predicted risk', undefined],
    [1, 'High predicted risk', '7 4'],
  ] as const) {
    const idx = g.high.map((h, i) => (h === grp ? i : -1)).filter(i => i >= 0);
    const km = kaplanMeier(
      idx.map(i => g.time[i]!),
      idx.map(i => g.event[i]!),
    );
    series.push({
      label: `${name} (n = ${km.n}, ${km.events} events)`,
      points: kmSteps(km, maxOf(idx.map(i => g.time[i]!))),
      marks: km.censored,
      ...(dash ? { dash } : {}),
    });
  }
  const lr = logRank(g.time, g.event, g.high);
  const split = set.parts.length > 1 ? 'median split within each fold' : 'median split';
  return lineChart({
    title,
    subtitle: `${set.source}; ${split}; log-rank p = ${label(lr.p)}`,
    xLabel: 'Time',
    yLabel: 'Survival probability',
    series,
    xDomain: [0, tEnd],
    yDomain: [0, 1],
    legendAt: 'top-right',
  });
}

// --- tuning ----------------------------------------------------------------------------------

/** Inner-CV score of every completed trial, and the best so far. */
export function tuningPlot(tune: Json, model: string): string | null {
  const trials = arr(tune.trials)
    .map(obj)
    .filter((t): t is Json => t !== null && num(t.score) !== null && num(t.number) !== null);
  if (trials.length === 0) return null;
  const greater = tune.greater_is_better !== false;
  const metric = str(tune.metric) ?? 'score';
  // x = the trial's `number` (0-based, as in the tuning_trials table and Optuna)
  const pts: [number, number][] = trials.map(t => [num(t.number)!, num(t.score)!]);
  pts.sort((a, b) => a[0] - b[0]);
  const best: [number, number][] = [];
  let cur = pts[0]![1];
  for (const [x, y] of pts) {
    const prev = cur;
    cur = greater ? Math.max(cur, y) : Math.min(cur, y);
    if (best.length) best.push([x, prev]);
    best.push([x, cur]);
  }
  const ys = pts.map(p => p[1]);
  return lineChart({
    title: `Tuning ${model}: ${metric} per trial`,
    subtitle: `${str(tune.strategy) ?? 'search'}, ${pts.length} completed trials, inner cross-validation${greater ? '' : '; lower is better'}`,
    xLabel: 'Trial number',
    yLabel: `${metric} (inner CV mean)`,
    series: [
      { label: 'trial', points: pts, dots: true },
      { label: 'best so far', points: best },
    ],
    xDomain: [0, Math.max(1, pts[pts.length - 1]![0])],
    yDomain: [ys.reduce((a, b) => Math.min(a, b)), ys.reduce((a, b) => Math.max(a, b))],
    legendAt: greater ? 'bottom-right' : 'top-right',
  });
}

// --- per job type -----------------------------------------------------------------------------

function featureSelectionPlots(d: Json, topN: number, taken: Set<string>): Plot[] {
  const plots: Plot[] = [];
  for (const s of arr(d.selectors).map(obj)) {
    if (!s) continue;
    const code = str(s.selector) ?? 'selector';
    const selected = new Set(arr(s.selected).filter((x): x is string => typeof x === 'string'));
    const diag = obj(s.diagnostics);
    const freq = numberMap(diag?.frequency);
    if (code === 'stability_selection' && freq) {
      const threshold = num(obj(s.params)?.threshold);
      const bars = topBars(freq, Math.max(topN, 30), selected).filter(b => b.value > 0);
      if (bars.length === 0) continue;
      const base = str(obj(s.params)?.base);
      plots.push({
        name: slug(`stability-${code}`, taken),
        svg: barChart({
          title: `Stability selection${base ? ` (${base})` : ''}: selection frequency`,
          subtitle: `Top ${bars.length} features by frequency over subsamples; ${selected.size} selected`,
          xLabel: 'Selection frequency',
          bars,
          domain: [0, 1],
          ...(threshold !== null
            ? { threshold: { value: threshold, label: `threshold ${label(threshold)}` } }
            : {}),
          legend: ['selected', 'not selected'],
        }),
      });
      continue;
    }
    const scores = numberMap(s.scores);
    if (!scores) continue;
    const bars = topBars(scores, topN, selected);
    if (bars.length === 0) continue;
    const what = str(diag?.score) ?? 'score';
    plots.push({
      name: slug(`importance-${code}`, taken),
      svg: barChart({
        title: `${code}: top ${bars.length} features`,
        subtitle: `Ranked by ${what} (higher = stronger); ${selected.size} selected`,
        xLabel: what === 'score' ? 'Score' : `Score (${what})`,
        bars,
        legend: ['selected', 'not selected'],
      }),
    });
  }
  return plots;
}

function predictionPlots(sets: readonly PredictionSet[], name: string, taken: Set<string>): Plot[] {
  const plots: Plot[] = [];
  const roc = rocPlot(`ROC curve: ${name}`, sets);
  if (roc) plots.push({ name: slug(`roc-${name}`, taken), svg: roc });
  for (const s of sets) {
    const km = kmPlot(`Kaplan–Meier by predicted risk: ${s.label}`, s);
    if (km) plots.push({ name: slug(`km-${s.label}`, taken), svg: km });
  }
  return plots;
}

const HEADLINE = ['roc_auc', 'balanced_accuracy', 'r2', 'c_index'];

function benchmarkPlots(input: ReportInput, taken: Set<string>): Plot[] {
  const d = input.data;
  const plots: Plot[] = [];
  const rows = arr(d.table)
    .map(obj)
    .filter((r): r is Json => r !== null);
  const metrics = arr(d.metrics).filter((m): m is string => typeof m === 'string');
  const metric = HEADLINE.find(m => metrics.includes(m)) ?? metrics[0];
  const sigs = [...new Set(rows.map(r => str(r.signature) ?? ''))];
  // Rows come signature by signature, models in config order; the same model code may appear
  // twice with other arguments, so columns are positions, labelled "code", "code #2" ….
  const bySig = sigs.map(sg => rows.filter(r => (str(r.signature) ?? '') === sg));
  const models = (bySig[0] ?? []).map((r, j, all) => {
    const code = str(r.model) ?? '';
    const k = all.slice(0, j).filter(x => x.model === code).length;
    return k ? `${code} #${k + 1}` : code;
  });
  const split = obj(d.split);
  const heldOut = (num(split?.n_validation) ?? 0) > 0 ? 'validation' : 'test';
  if (metric && rows.length) {
    const lowerBetter = (() => {
      try {
        return !findMetric(metric).greaterIsBetter;
      } catch {
        return false;
      }
    })();
    for (const part of ['cv', heldOut] as const) {
      const values = bySig.map(sr => models.map((_m, j) => num(obj(sr[j]?.[part])?.[metric])));
      if (!values.flat().some(v => v !== null)) continue;
      const cv = obj(d.cv);
      const where =
        part === 'cv'
          ? `repeated CV on the training split (${num(cv?.n_splits) ?? '?'} folds × ${num(cv?.n_repeats) ?? '?'})`
          : `${part} split (n = ${num(split?.[`n_${part}`]) ?? '?'})`;
      plots.push({
        name: slug(`heatmap-${part}-${metric}`, taken),
        svg: heatmap({
          title: `Benchmark: ${metric} by signature × model`,
          subtitle: `${where}${lowerBetter ? '; lower is better' : ''}`,
          rowLabel: 'Signature',
          colLabel: 'Model',
          rows: sigs,
          cols: models,
          values,
          valueLabel: metric,
        }),
      });
    }
  }
  const sets = input.predictions ?? [];
  const rec = str(obj(d.recommended)?.signature);
  for (const sg of sigs) {
    const mine = sets.filter(s => s.signature === sg);
    if (mine.length === 0) continue;
    const roc = rocPlot(`ROC curves: signature ${sg}`, mine);
    if (roc) plots.push({ name: slug(`roc-${sg}`, taken), svg: roc });
    // Kaplan–Meier for the recommended signature only (one plot per model).
    if (sg !== rec) continue;
    for (const s of mine) {
      const km = kmPlot(`Kaplan–Meier by predicted risk: ${sg} × ${s.label}`, s);
      if (km) plots.push({ name: slug(`km-${sg}-${s.label}`, taken), svg: km });
    }
  }
  // The other cut: per model, one curve per signature.
  const modelLabels = [...new Set(sets.map(s => s.label))];
  for (const m of modelLabels) {
    const mine = sets
      .filter(s => s.label === m)
      .map(s => ({ ...s, label: s.signature ?? s.label }));
    const roc = rocPlot(`ROC curves: model ${m}`, mine);
    if (roc) plots.push({ name: slug(`roc-model-${m}`, taken), svg: roc });
  }
  return plots;
}

export function plotsFor(input: ReportInput): Plot[] {
  const topN = input.topN ?? 20;
  const taken = new Set<string>();
  const d = input.data;
  const sets = input.predictions ?? [];
  switch (input.type) {
    case 'FEATURE_SELECTION':
      return featureSelectionPlots(d, topN, taken);
    case 'MODEL_TRAINING': {
      const plots: Plot[] = [];
      const model = str(d.model) ?? 'model';
      const imp = numberMap(d.importance);
      const features = new Set(arr(d.features).filter((f): f is string => typeof f === 'string'));
      const bars = imp ? topBars(imp, topN, features) : [];
      if (bars.length) {
        plots.push({
          name: slug(`importance-${model}`, taken),
          svg: barChart({
            title: `${model}: feature importance`,
            subtitle: `Top ${bars.length} of ${features.size} model features (final fit on all samples)`,
            xLabel: 'Importance',
            bars,
          }),
        });
      }
      // Selection inside CV folds: how often each feature was chosen (selection stability).
      const freq = numberMap(obj(d.validation)?.selection_frequency);
      if (freq && arr(d.selection).length) {
        const fbars = topBars(freq, Math.max(topN, 30), features);
        if (fbars.length) {
          plots.push({
            name: slug('cv-selection-frequency', taken),
            svg: barChart({
              title: 'Selection frequency across CV folds',
              subtitle: 'Fraction of training folds whose selected signature contains the feature',
              xLabel: 'Selection frequency',
              bars: fbars,
              domain: [0, 1],
              legend: ['in the final model', 'not in the final model'],
            }),
          });
        }
      }
      const tune = obj(d.tuning);
      const tp = tune ? tuningPlot(tune, model) : null;
      if (tp) plots.push({ name: slug('tuning-trials', taken), svg: tp });
      plots.push(...predictionPlots(sets, model, taken));
      return plots;
    }
    case 'HYPERPARAMETER_TUNING': {
      const model = str(d.model) ?? 'model';
      const tp = tuningPlot(d, model);
      return [
        ...(tp ? [{ name: slug('tuning-trials', taken), svg: tp }] : []),
        ...predictionPlots(sets, `${model} (nested CV)`, taken),
      ];
    }
    case 'PREDICTION':
      return predictionPlots(sets, str(d.model) ?? 'model', taken);
    case 'BENCHMARKING':
      return benchmarkPlots(input, taken);
    case 'PREPROCESSING':
      return [];
  }
}
