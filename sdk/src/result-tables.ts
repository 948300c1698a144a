/**
 * CSV/JSON tables out of the typed result (`JobResults` operation): one table per typed field, with
 * snake_case columns; metric lists become one column per metric (`cv_roc_auc`, `test_accuracy`).
 * Empty tables are left out, so a job type only shows what it has.
 */
import type { JobResultsQuery } from '../generated/graphql.js';
import type { ResultTable } from './results.js';

type Result = NonNullable<JobResultsQuery['job']['result']>;
type Cell = string | number | boolean | null;
type Metric = { name: string; value: number | null; std?: number | null };

/** Metric names in first-seen order across rows, so every row gets the same columns. */
function metricNames(lists: Metric[][]): string[] {
  const seen = new Set<string>();
  for (const l of lists) for (const m of l) seen.add(m.name);
  return [...seen];
}

function valueOf(list: Metric[], name: string): number | null {
  return list.find(m => m.name === name)?.value ?? null;
}

function stdOf(list: Metric[], name: string): number | null {
  return list.find(m => m.name === name)?.std ?? null;
}

function table(name: string, columns: string[], rows: Cell[][]): ResultTable {
  return { name, columns, rows };
}

/** Every typed table of a result, the most useful first. Predictions: the rows fetched so far. */
export function typedTables(
  r: Result,
  predictions: NonNullable<Result['predictions']>['rows'] = r.predictions?.rows ?? [],
): ResultTable[] {
  const out: ResultTable[] = [];
  if (r.features.length) {
    out.push(
      table(
        'features',
        [
          'source',
          'rank',
          'feature',
          'score',
          'selected',
          'frequency',
          'p_value',
          'adjusted_p_value',
          'statistic',
          'votes',
        ],
        r.features.map(f => [
          f.source,
          f.rank,
          f.name,
          f.score,
          f.selected,
          f.frequency,
          f.pValue,
          f.adjustedPValue,
          f.statistic,
          f.votes,
        ]),
      ),
    );
  }
  if (r.benchmark.length) {
    const parts = ['train', 'cv', 'test', 'validation'] as const;
    const names = metricNames(r.benchmark.flatMap(b => parts.map(p => b[p])));
    out.push(
      table(
        'benchmark',
        [
          'signature',
          'model',
          'n_features',
          'rank',
          'metaindex',
          'metaindex_metric',
          'validation_youden',
          'rank_youden',
          ...parts.flatMap(p => [
            ...names.map(n => `${p}_${n}`),
            ...(p === 'cv' ? names.map(n => `cv_std_${n}`) : []),
          ]),
          'features',
        ],
        r.benchmark.map(b => [
          b.signature,
          b.model,
          b.nFeatures,
          b.rank,
          b.metaindex,
          b.metaindexMetric,
          b.validationYouden,
          b.rankYouden,
          ...parts.flatMap(p => [
            ...names.map(n => valueOf(b[p], n)),
            ...(p === 'cv' ? names.map(n => stdOf(b.cv, n)) : []),
          ]),
          b.features.join(';'),
        ]),
      ),
    );
  }
  if (r.recommended) {
    const x = r.recommended;
    out.push(
      table(
        'recommended',
        [
          'signature',
          'n_features',
          'metaindex',
          'validation_youden',
          'cv_score',
          'reasons',
          'features',
        ],
        [
          [
            x.signature,
            x.features.length,
            x.metaindex,
            x.validationYouden,
            x.cvScore,
            x.reasons.join(' | '),
            x.features.join(';'),
          ],
        ],
      ),
    );
  }
  if (r.comparisons.length) {
    out.push(
      table(
        'comparisons',
        ['a', 'b', 'metric', 'mean_difference', 't', 'df', 'p_value'],
        r.comparisons.map(c => [c.a, c.b, c.metric, c.meanDifference, c.t, c.df, c.pValue]),
      ),
    );
  }
  if (r.signatures.length) {
    out.push(
      table(
        'signatures',
        ['name', 'n_features', 'source', 'selector', 'features'],
        r.signatures.map(s => [
          s.name,
          s.features.length,
          s.source,
          s.selector,
          s.features.join(';'),
        ]),
      ),
    );
  }
  if (r.metrics.length) {
    out.push(
      table(
        'metrics',
        ['metric', 'value', 'std'],
        r.metrics.map(m => [m.name, m.value, m.std]),
      ),
    );
  }
  if (r.folds.length) {
    const names = metricNames(r.folds.map(f => f.metrics));
    const trainNames = metricNames(r.folds.map(f => f.trainMetrics ?? []));
    // BENCHMARKING folds belong to a signature × model row.
    const bench = r.folds.some(f => f.signature !== null && f.signature !== undefined);
    out.push(
      table(
        'folds',
        [
          ...(bench ? ['signature', 'model'] : []),
          'index',
          'repeat',
          'fold',
          'n_train',
          'n_test',
          ...names,
          ...trainNames.map(n => `train_${n}`),
          'n_selected',
          'selected',
        ],
        r.folds.map(f => [
          ...(bench ? [f.signature ?? null, f.model ?? null] : []),
          f.index,
          f.repeat,
          f.fold,
          f.nTrain,
          f.nTest,
          ...names.map(n => valueOf(f.metrics, n)),
          ...trainNames.map(n => valueOf(f.trainMetrics ?? [], n)),
          f.selected.length,
          f.selected.join(';'),
        ]),
      ),
    );
  }
  if (r.tuning) {
    const params = [...new Set(r.tuning.trials.flatMap(t => Object.keys(t.params)))];
    out.push(
      table(
        'trials',
        ['number', 'state', 'score', 'seconds', ...params.map(p => `param_${p}`), 'error'],
        r.tuning.trials.map(t => [
          t.number,
          t.state,
          t.score,
          t.seconds,
          ...params.map(p => {
            const v = t.params[p];
            return v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : (v as Cell);
          }),
          t.error,
        ]),
      ),
    );
  }
  if (predictions.length) {
    const classes = [
      ...new Set(predictions.flatMap(p => (p.probabilities ?? []).map(c => c.class))),
    ];
    out.push(
      table(
        'predictions',
        ['sample_id', 'label', 'value', 'risk', ...classes.map(c => `proba_${c}`)],
        predictions.map(p => [
          p.sampleId,
          p.label,
          p.value,
          p.risk,
          ...classes.map(c => p.probabilities?.find(x => x.class === c)?.probability ?? null),
        ]),
      ),
    );
  }
  if (r.artifacts.length) {
    out.push(
      table(
        'artifacts',
        ['name', 'kind', 'content_type', 'bytes', 'created_at', 'key'],
        r.artifacts.map(a => [a.name, a.kind, a.contentType, a.bytes, a.createdAt, a.key]),
      ),
    );
  }
  return out;
}
