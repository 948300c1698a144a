/**
 * Benchmark ROC plots for multiclass outcomes: each signature × model gets one macro-average
 * one-vs-rest curve. The curve is the exact pointwise mean of the per-class curves, so its area
 * equals the mean per-class AUC (scikit-learn's roc_auc_ovr, macro) to 1e-12.
 */
import { XMLValidator } from 'fast-xml-parser';
import { buildReports } from '../../../../compute/reports/build';
import { macroRoc, rocPlot } from '../../../../compute/reports/plots';
import { rocAuc } from '../../../../compute/metrics/ranking';
import { Rng } from '../../../../compute/core/rng';
import { type PredictionSet } from '../../../../compute/reports/types';

const CLASSES = ['a', 'b', 'c'];

/** n samples, 3 classes; probabilities rounded to 0.1 so scores tie (vertical ROC steps). */
function multiclassSet(seed: number, label: string, signature: string, n = 45): PredictionSet {
  const rng = new Rng(seed);
  const labels = new Int32Array(n).map((_, i) => i % 3);
  const proba = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const w = CLASSES.map((_, c) => Math.exp((c === labels[i] ? 1 : 0) + rng.normal()));
    const sum = w.reduce((x, y) => x + y, 0);
    w.forEach((v, c) => (proba[3 * i + c] = Math.round((10 * v) / sum) / 10));
  }
  const predicted = new Int32Array(n).map((_, i) => {
    const row = [0, 1, 2].map(c => proba[3 * i + c]!);
    return row.indexOf(Math.max(...row));
  });
  return {
    label,
    signature,
    model: label,
    source: `final fits on the held-out validation split (n = ${n})`,
    parts: [
      {
        group: 'validation',
        sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
        truth: { kind: 'multiclass', labels, classes: CLASSES },
        prediction: { kind: 'class', labels: predicted, proba, classes: CLASSES },
      },
    ],
  };
}

function ovrOf(set: PredictionSet) {
  const p = set.parts[0]!;
  const truth = p.truth as { labels: Int32Array };
  const pr = p.prediction as { proba: Float64Array };
  return CLASSES.map((_, c) => ({
    labels: Array.from(truth.labels, l => (l === c ? 1 : 0)),
    scores: Array.from(truth.labels, (_l, i) => pr.proba[3 * i + c]!),
  }));
}

const area = (pts: [number, number][]) =>
  pts.slice(1).reduce((a, [x, y], i) => a + ((x - pts[i]![0]) * (y + pts[i]![1])) / 2, 0);

it('the macro curve is the mean of the one-vs-rest curves: area = mean AUC, monotone, (0,0)→(1,1)', () => {
  for (const seed of [1, 2, 3]) {
    const ovr = ovrOf(multiclassSet(seed, 'm', 's'));
    const m = macroRoc(ovr)!;
    const mean = ovr.reduce((a, o) => a + rocAuc(o.labels, o.scores), 0) / 3;
    expect(m.auc).toBeCloseTo(mean, 14);
    expect(Math.abs(area(m.points) - mean)).toBeLessThan(1e-12);
    expect(m.points[0]).toEqual([0, 0]);
    expect(m.points.at(-1)).toEqual([1, 1]);
    for (let i = 1; i < m.points.length; i++) {
      expect(m.points[i]![0]).toBeGreaterThanOrEqual(m.points[i - 1]![0]);
      expect(m.points[i]![1]).toBeGreaterThanOrEqual(m.points[i - 1]![1] - 1e-15);
    }
    // ties make vertical steps: some rate appears twice
    const xs = m.points.map(p => p[0]);
    expect(new Set(xs).size).toBeLessThan(xs.length);
  }
  // one class: its own curve back
  const one = ovrOf(multiclassSet(4, 'm', 's')).slice(0, 1);
  expect(
    Math.abs(area(macroRoc(one)!.points) - rocAuc(one[0]!.labels, one[0]!.scores)),
  ).toBeLessThan(1e-12);
  expect(macroRoc([])).toBeNull();
});

it('benchmark reports: one macro one-vs-rest curve per model in roc-<signature>, per signature in roc-model-<model>', async () => {
  const sets = [
    multiclassSet(1, 'knn', 'sig1'),
    multiclassSet(2, 'svm', 'sig1'),
    multiclassSet(3, 'knn', 'sig2'),
    multiclassSet(4, 'svm', 'sig2'),
  ];
  const svg = rocPlot('ROC', sets.slice(0, 2))!;
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg.split('class="curve"').length - 1).toBe(2);
  expect(svg).toContain('macro OvR AUC');
  const files = await buildReports({
    type: 'BENCHMARKING',
    xlsx: false,
    data: {
      metrics: ['balanced_accuracy'],
      split: { n_train: 90, n_test: 45, n_validation: 45 },
      table: [
        { signature: 'sig1', model: 'knn', validation: { balanced_accuracy: 0.5 } },
        { signature: 'sig1', model: 'svm', validation: { balanced_accuracy: 0.6 } },
        { signature: 'sig2', model: 'knn', validation: { balanced_accuracy: 0.4 } },
        { signature: 'sig2', model: 'svm', validation: { balanced_accuracy: 0.7 } },
      ],
    },
    predictions: sets,
  });
  const rocs = files.filter(f => f.name.startsWith('roc-')).map(f => f.name);
  expect(rocs.sort()).toEqual([
    'roc-model-knn.svg',
    'roc-model-svm.svg',
    'roc-sig1.svg',
    'roc-sig2.svg',
  ]);
  for (const f of files.filter(x => x.name.startsWith('roc-'))) {
    expect((f.body as string).split('class="curve"').length - 1).toBe(2);
  }
});
