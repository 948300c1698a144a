/**
 * Job result documents → export files and SVG plots: every SVG is well-formed XML (checked with
 * fast-xml-parser's validator), holds the expected number of bars / curves / cells, escapes hostile
 * feature names, and is byte-identical when built twice from the same input.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { quietContext } from '../../../../compute/core/method';
import { buildReports } from '../../../../compute/reports/build';
import { tuneModel } from '../../../../compute/tuning/tune';
import { testResolver } from '../evaluation/helpers';
import { dropCollinear, kmPlot, rocPlot } from '../../../../compute/reports/plots';
import { toCsv } from '../../../../compute/reports/csv';
import { benchmarkFoldTable } from '../../../../compute/reports/tables';
import { type ReportFile, type ReportInput } from '../../../../compute/reports/types';
import {
  benchmarkDoc,
  featureSelectionDoc,
  HOSTILE,
  hostileBinary,
  modelTrainingDoc,
  survivalPredictions,
} from './fixtures';

const count = (svg: string, cls: string) => svg.split(`class="${cls}"`).length - 1;
const byName = (files: ReportFile[]) => Object.fromEntries(files.map(f => [f.name, f]));

/** Set REPORTS_OUT=/some/dir to look at the files. */
function dump(files: ReportFile[], dir: string) {
  const out = process.env.REPORTS_OUT;
  if (!out) return;
  mkdirSync(join(out, dir), { recursive: true });
  for (const f of files) writeFileSync(join(out, dir, f.name), f.body);
}

function expectWellFormed(svg: string) {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg?: unknown };
  expect(doc.svg).toBeDefined();
}

async function twice(input: ReportInput) {
  const a = await buildReports({ ...input, xlsx: false });
  const b = await buildReports({ ...input, xlsx: false });
  expect(b.map(f => f.name)).toEqual(a.map(f => f.name));
  a.forEach((f, i) => expect(b[i]!.body).toEqual(f.body)); // deterministic, byte for byte
  return a;
}

describe('FEATURE_SELECTION reports', () => {
  let files: ReportFile[];
  beforeAll(async () => {
    files = await buildReports({ type: 'FEATURE_SELECTION', data: await featureSelectionDoc() });
    dump(files, 'feature-selection');
  });

  it('exports the per-feature table as CSV, JSON and XLSX', () => {
    const f = byName(files);
    expect(Object.keys(f)).toEqual(
      expect.arrayContaining(['features.csv', 'features.json', 'results.xlsx']),
    );
    const csv = f['features.csv']!.body as string;
    expect(csv.split('\r\n')[0]).toBe(
      'selector,feature,rank,score,selected,frequency,p_value,p_adjusted',
    );
    // 40 features ranked by each selector
    expect(csv.trimEnd().split('\r\n')).toHaveLength(1 + 80);
    // hostile names: quoted and formula-escaped in the CSV
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain('"<g1> & ""co"""');
    const json = JSON.parse(f['features.json']!.body as string) as {
      rows: Record<string, unknown>[];
    };
    const t = json.rows.filter(r => r.selector === 't_test');
    expect(t.filter(r => r.selected === true)).toHaveLength(8);
    expect(t[0]!.rank).toBe(1);
    expect(typeof t[0]!.p_value).toBe('number'); // t_test has p-values
    const st = json.rows.filter(r => r.selector === 'stability_selection');
    expect(st.every(r => typeof r.frequency === 'number')).toBe(true);
    expect(st.every(r => r.p_value === null)).toBe(true);
    // the raw name, unescaped, in JSON
    expect(json.rows.map(r => r.feature)).toContain('=HYPERLINK("x")');
  });

  it('draws importance bars (top 20) and stability frequencies with the threshold line', () => {
    const f = byName(files);
    const imp = f['importance-t_test.svg']!.body as string;
    expectWellFormed(imp);
    expect(count(imp, 'bar')).toBe(20);
    expect(imp).toContain('&lt;g1&gt; &amp; &quot;co&quot;');
    expect(imp).not.toContain('<g1>');
    const st = f['stability-stability_selection.svg']!.body as string;
    expectWellFormed(st);
    expect(count(st, 'threshold')).toBe(1);
    expect(count(st, 'bar')).toBeGreaterThan(0);
    expect(st).toContain('threshold 0.6');
  });

  it('is deterministic', async () => {
    await twice({ type: 'FEATURE_SELECTION', data: await featureSelectionDoc() });
  });
});

describe('MODEL_TRAINING reports', () => {
  it('exports folds, metrics, out-of-fold predictions; plots importance and one ROC curve', async () => {
    const { data, predictions } = await modelTrainingDoc();
    const files = await twice({ type: 'MODEL_TRAINING', data, predictions });
    dump(files, 'model-training');
    const f = byName(files);
    const folds = (f['folds.csv']!.body as string).trimEnd().split('\r\n');
    expect(folds).toHaveLength(5);
    expect(folds[0]).toMatch(/^fold,n_train,n_test,n_features,roc_auc,accuracy/);
    const preds = (f['predictions.csv']!.body as string).trimEnd().split('\r\n');
    expect(preds[0]).toBe('group,sample_id,truth,predicted,proba_ctrl,proba_case');
    expect(preds).toHaveLength(61); // every sample once, out of fold
    expect(preds[1]).toMatch(/^1,'=S/); // sample ids "=S…" are formula-escaped
    const roc = f['roc-test_centroid.svg']!.body as string;
    expectWellFormed(roc);
    expect(count(roc, 'curve')).toBe(1);
    expect(count(roc, 'chance')).toBe(1);
    expect(roc).toMatch(/AUC 0\.\d+/);
    expect(count(f['importance-test_centroid.svg']!.body as string, 'bar')).toBe(5);
    expect(f['cv-selection-frequency.svg']).toBeDefined();
  });

  it('skips ROC and Kaplan–Meier plots without held-out predictions', async () => {
    const { data } = await modelTrainingDoc();
    const files = await buildReports({ type: 'MODEL_TRAINING', data, xlsx: false });
    expect(files.some(f => f.name.startsWith('roc-') || f.name.startsWith('km-'))).toBe(false);
    expect(files.some(f => f.name === 'predictions.csv')).toBe(false);
  });
});

describe('BENCHMARKING reports', () => {
  it('exports the signature × model table; heatmaps and one ROC plot per signature', async () => {
    const { data, predictions } = await benchmarkDoc();
    const files = await twice({ type: 'BENCHMARKING', data, predictions });
    dump(files, 'benchmark');
    const f = byName(files);
    const table = (f['benchmark.csv']!.body as string).trimEnd().split('\r\n');
    expect(table).toHaveLength(1 + 3 * 2);
    expect(table[0]).toMatch(/^signature,model,n_features,train_roc_auc,/);
    expect(table[0]).toContain('validation_accuracy');
    expect((f['signatures.csv']!.body as string).split('\r\n')[0]).toMatch(/recommended,features$/);
    // per-fold scores: 3 signatures × 2 models × 3 folds, with signature and model columns
    const folds = JSON.parse(f['folds.json']!.body as string) as {
      columns: string[];
      rows: Record<string, string | number | null>[];
    };
    expect(folds.columns.slice(0, 7)).toEqual([
      'signature',
      'model',
      'repeat',
      'fold',
      'n_train',
      'n_test',
      'n_features',
    ]);
    expect(folds.columns).toContain('train_roc_auc');
    expect(folds.rows).toHaveLength(3 * 2 * 3);
    expect(folds.rows.map(r => r.fold).slice(0, 3)).toEqual([1, 2, 3]);
    // the benchmark table's cv means are the means of these rows
    const bench = JSON.parse(f['benchmark.json']!.body as string) as {
      rows: Record<string, string | number | null>[];
    };
    // (the fixture benchmarks test_centroid twice, with other args: rows pair up by position)
    bench.rows.forEach((b, i) => {
      const mine = folds.rows.slice(3 * i, 3 * i + 3);
      expect(mine.map(r => [r.signature, r.model])).toEqual(Array(3).fill([b.signature, b.model]));
      const mean = mine.reduce((a, r) => a + (r.accuracy as number), 0) / 3;
      expect(b.cv_accuracy).toBeCloseTo(mean, 12);
    });
    const foldCsv = (f['folds.csv']!.body as string).split('\r\n');
    expect(foldCsv.filter(l => l.startsWith('noise <&>,'))).toHaveLength(6);
    for (const name of ['heatmap-cv-roc_auc.svg', 'heatmap-validation-roc_auc.svg']) {
      const svg = f[name]!.body as string;
      expectWellFormed(svg);
      expect(count(svg, 'cell')).toBe(6);
      expect(svg).toContain('noise &lt;&amp;&gt;');
    }
    const rocs = files.filter(x => x.name.startsWith('roc-') && !x.name.startsWith('roc-model-'));
    expect(rocs.map(r => r.name).sort()).toEqual([
      'roc-noise.svg',
      'roc-test_t.svg',
      'roc-truth.svg',
    ]);
    for (const r of rocs) {
      expectWellFormed(r.body as string);
      expect(count(r.body as string, 'curve')).toBe(2); // one per model
    }
    const byModel = files.filter(x => x.name.startsWith('roc-model-'));
    expect(byModel).toHaveLength(2);
    for (const r of byModel) expect(count(r.body as string, 'curve')).toBe(3); // one per signature
    const preds = (f['predictions.csv']!.body as string).trimEnd().split('\r\n');
    expect(preds[0]).toMatch(/^signature,model,group,sample_id,truth,predicted/);
    expect(preds).toHaveLength(1 + 6 * 18);
  });
});

it('benchmark fold export: formula-like signature names are escaped in the CSV only', () => {
  const t = benchmarkFoldTable({
    metrics: ['accuracy'],
    table: [
      {
        signature: '=HYPERLINK("x")',
        model: '@knn',
        cv_folds: [
          {
            repeat: 0,
            fold: 1,
            n_train: 8,
            n_test: 2,
            metrics: { accuracy: 0.5 },
            train_metrics: { accuracy: -1 },
            selected: ['a', 'b'],
          },
        ],
      },
      { signature: 'old', model: 'knn' }, // a document without cv_folds adds no rows
    ],
  });
  expect(t.columns).toEqual([
    'signature',
    'model',
    'repeat',
    'fold',
    'n_train',
    'n_test',
    'n_features',
    'accuracy',
    'train_accuracy',
  ]);
  expect(t.rows).toEqual([['=HYPERLINK("x")', '@knn', 1, 2, 8, 2, 2, 0.5, -1]]);
  expect(toCsv(t).split('\r\n')[1]).toBe(`"'=HYPERLINK(""x"")",'@knn,1,2,8,2,2,0.5,-1`);
});

describe('PREDICTION reports (survival)', () => {
  it('draws Kaplan–Meier curves for the two predicted risk groups', async () => {
    const set = survivalPredictions();
    const data = {
      model: 'coxnet',
      predictions: set.parts[0]!.sampleIds.map((s, i) => ({
        sampleId: s,
        risk: (set.parts[0]!.prediction as { risk: Float64Array }).risk[i],
      })),
      metrics: { c_index: 0.7 },
    };
    const files = await twice({ type: 'PREDICTION', data, predictions: [set] });
    dump(files, 'prediction-survival');
    const f = byName(files);
    const km = f['km-coxnet.svg']!.body as string;
    expectWellFormed(km);
    expect(count(km, 'curve')).toBe(2);
    expect(km).toContain('Low predicted risk (n = 40');
    expect(km).toContain('High predicted risk (n = 40');
    expect(km).toMatch(/log-rank p = [0-9.e-]+/);
    expect(f['roc-coxnet.svg']).toBeUndefined();
    const csv = (f['predictions.csv']!.body as string).split('\r\n');
    expect(csv[0]).toBe('group,sample_id,truth,time,event,risk');
  });
});

it('hostile names never break the XML', async () => {
  const files = await buildReports({
    type: 'FEATURE_SELECTION',
    xlsx: false,
    data: {
      selectors: [
        {
          selector: 'x',
          selected: HOSTILE,
          scores: Object.fromEntries(
            [...HOSTILE, 'ctl\u0001char', ']]>'].map((h, i) => [h, 10 - i]),
          ),
        },
      ],
    },
  });
  const svg = files.find(f => f.name.endsWith('.svg'))!.body as string;
  expectWellFormed(svg);
  expect(count(svg, 'bar')).toBe(6);
});

describe('large inputs', () => {
  it('ROC corners only: collinear points are dropped, the curve is unchanged', () => {
    expect(
      dropCollinear([
        [0, 0],
        [0, 0.5],
        [0, 1],
        [0.5, 1],
        [1, 1],
      ]),
    ).toEqual([
      [0, 0],
      [0, 1],
      [1, 1],
    ]);
    // separable scores at n = 20,000: three points whatever n is
    const n = 20_000;
    const labels = new Int32Array(n).map((_, i) => i % 2);
    const proba = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      proba[2 * i + 1] = labels[i]! ? 0.5 + i / (4 * n) : i / (4 * n);
      proba[2 * i] = 1 - proba[2 * i + 1]!;
    }
    const svg = rocPlot('t', [
      {
        label: 'm',
        source: 's',
        parts: [
          {
            group: 'all',
            sampleIds: [],
            truth: { kind: 'binary', labels, classes: ['a', 'b'] },
            prediction: { kind: 'class', labels, proba, classes: ['a', 'b'] },
          },
        ],
      },
    ])!;
    const d = /class="curve" d="([^"]+)"/.exec(svg)![1]!;
    expect(d.split(/[ML]/).filter(Boolean)).toHaveLength(3);
  });

  it('Kaplan–Meier with 200,000 samples (no argument-spreading limits)', () => {
    const n = 200_000;
    const time = new Float64Array(n).map((_, i) => 1 + ((i * 7919) % 1000));
    const event = new Uint8Array(n).map((_, i) => (i % 3 === 0 ? 0 : 1));
    const risk = new Float64Array(n).map((_, i) => -time[i]! + (i % 17));
    const svg = kmPlot('t', {
      label: 'm',
      source: 's',
      parts: [
        {
          group: 'all',
          sampleIds: [],
          truth: { kind: 'survival', time, event },
          prediction: { kind: 'risk', risk },
        },
      ],
    })!;
    expect(svg.split('class="curve"').length - 1).toBe(2);
  });
});

describe('tuning and multiclass', () => {
  it('HYPERPARAMETER_TUNING: trials table with parameter columns and a per-trial plot', async () => {
    const ds = hostileBinary(2, 40, 10);
    const tuned = await tuneModel(
      'test_centroid',
      ds,
      {
        strategy: 'random',
        n_trials: 6,
        metric: 'roc_auc',
        inner: { code: 'stratified_kfold', args: { n_splits: 3 } },
        space: { shrink: { type: 'float', low: 0, high: 1 } },
      },
      quietContext(3),
      testResolver(),
    );
    const data = JSON.parse(JSON.stringify(tuned)) as Record<string, unknown>;
    const files = await twice({ type: 'HYPERPARAMETER_TUNING', data: { ...data, nested: null } });
    dump(files, 'tuning');
    const f = byName(files);
    const rows = (f['tuning_trials.csv']!.body as string).trimEnd().split('\r\n');
    expect(rows[0]).toBe('trial,state,score,best,param_shrink,seconds,error');
    expect(rows).toHaveLength(7);
    expect(rows.filter(r => r.split(',')[3] === 'true').length).toBeGreaterThanOrEqual(1);
    const svg = f['tuning-trials.svg']!.body as string;
    expectWellFormed(svg);
    expect(count(svg, 'dot')).toBe(6);
    expect(count(svg, 'curve')).toBe(1); // best so far
  });

  it('multiclass: one one-vs-rest ROC curve per class', () => {
    const n = 60;
    const labels = new Int32Array(n).map((_, i) => i % 3);
    const proba = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) proba[3 * i + c] = c === labels[i] ? 0.5 + (i % 5) / 20 : 0.2;
    }
    const svg = rocPlot('t', [
      {
        label: 'm',
        source: 's',
        parts: [
          {
            group: 'all',
            sampleIds: [],
            truth: { kind: 'multiclass', labels, classes: ['a', 'b', 'c'] },
            prediction: { kind: 'class', labels, proba, classes: ['a', 'b', 'c'] },
          },
        ],
      },
    ])!;
    expectWellFormed(svg);
    expect(count(svg, 'curve')).toBe(3);
    expect(svg).toContain('b vs rest (AUC 1)');
  });
});
