/**
 * Linear models as registry entries: prediction shapes, save → load round trips (identical
 * predictions), and the documented probability maps. Coefficient agreement with scikit-learn is
 * in sklearn.test.ts.
 */
import { makeDataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { getModel } from '../../../../compute/registry';
import { parseArgs } from '../../../../compute/core/args';

function synthetic(kind: 'binary' | 'multiclass' | 'continuous', n = 60, p = 6) {
  const rng = new Rng(11);
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  const eta = Array.from(
    { length: n },
    (_, i) => data[i]! - 0.8 * data[n + i]! + 0.5 * rng.normal(),
  );
  const names = Array.from({ length: p }, (_, j) => `x${j}`);
  if (kind === 'continuous') {
    return makeDataset({
      data,
      nSamples: n,
      featureNames: names,
      outcome: { kind: 'continuous', values: Float64Array.from(eta) },
    });
  }
  const labels =
    kind === 'binary'
      ? Int32Array.from(eta, e => (e > 0 ? 1 : 0))
      : Int32Array.from(eta, e => (e < -0.7 ? 0 : e < 0.7 ? 1 : 2));
  return makeDataset({
    data,
    nSamples: n,
    featureNames: names,
    outcome:
      kind === 'binary'
        ? { kind: 'binary', labels, classes: ['neg', 'pos'] }
        : { kind: 'multiclass', labels, classes: ['a', 'b', 'c'] },
  });
}

const CASES: [string, 'binary' | 'multiclass' | 'continuous', Record<string, unknown>][] = [
  ['logistic_regression', 'binary', {}],
  ['logistic_regression', 'multiclass', { penalty: 'l1', C: 0.5 }],
  ['logistic_regression', 'binary', { penalty: 'elasticnet', l1_ratio: 0.3 }],
  ['linear_svm', 'binary', {}],
  ['linear_svm', 'multiclass', { C: 0.1 }],
  ['linear_regression', 'continuous', {}],
  ['ridge', 'continuous', { alpha: 3 }],
];

test.each(CASES)('%s on %s: shapes, round trip', async (code, kind, raw) => {
  const def = getModel(code);
  const ds = synthetic(kind);
  const model = await def.fit(ds, parseArgs(def.args, raw) as never, quietContext());
  const pred = model.predict(ds);
  const again = def.load(JSON.parse(JSON.stringify(model.save()))).predict(ds);
  expect(again).toEqual(pred);
  if (kind === 'continuous') {
    expect(pred.kind).toBe('value');
    if (pred.kind !== 'value') return;
    const y = (ds.outcome as { values: Float64Array }).values;
    let ss = 0;
    let st = 0;
    const ym = y.reduce((a, b) => a + b, 0) / y.length;
    y.forEach((v, i) => {
      ss += (v - pred.values[i]!) ** 2;
      st += (v - ym) ** 2;
    });
    expect(1 - ss / st).toBeGreaterThan(0.6); // the signal is learnable
    return;
  }
  expect(pred.kind).toBe('class');
  if (pred.kind !== 'class') return;
  const nc = pred.classes.length;
  expect(pred.proba.length).toBe(ds.nSamples * nc);
  let correct = 0;
  const labels = (ds.outcome as { labels: Int32Array }).labels;
  for (let i = 0; i < ds.nSamples; i++) {
    let s = 0;
    let best = 0;
    for (let c = 0; c < nc; c++) {
      s += pred.proba[i * nc + c]!;
      if (pred.proba[i * nc + c]! > pred.proba[i * nc + best]!) best = c;
    }
    expect(s).toBeCloseTo(1, 12);
    // the predicted label is the most probable class (monotone maps)
    expect(pred.labels[i]).toBe(best);
    if (pred.labels[i] === labels[i]) correct++;
  }
  expect(correct / ds.nSamples).toBeGreaterThan(0.7);
  expect(Object.keys(model.importance!())).toEqual(ds.featureNames);
});

test('loading a state of another model is refused', async () => {
  const ds = synthetic('continuous');
  const m = await getModel('ridge').fit(
    ds,
    parseArgs(getModel('ridge').args, {}) as never,
    quietContext(),
  );
  expect(() => getModel('linear_regression').load(m.save())).toThrow(/ridge/);
});

test('logistic_regression C maps to alpha = 1/(C·n)', async () => {
  const ds = synthetic('binary');
  const def = getModel('logistic_regression');
  const m = await def.fit(ds, parseArgs(def.args, { C: 0.25 }) as never, quietContext());
  const info = (m.save().state as { info: { alpha: number } }).info;
  expect(info.alpha).toBeCloseTo(1 / (0.25 * ds.nSamples), 15);
});
