/**
 * Metrics vs scikit-learn 1.2 (and the numpy references in scripts/fixtures/metrics.py for DeLong,
 * Harrell / Uno C and the IPCW integrated Brier score).
 * Tolerances: 1e-12 absolute for every deterministic metric (same formula, different summation
 * order); 1e-9 for the Cox-Breslow step (Newton iterations stop at a relative 1e-12 step).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Outcome } from '../../../../compute/core/dataset';
import { type Prediction } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { allMetrics, findMetric, scoreAll } from '../../../../compute/metrics';
import {
  rocAucCiBootstrap,
  rocAucCiDelong,
  delongVariance,
  youdenCutoff,
} from '../../../../compute/metrics/ranking';
import {
  brierScores,
  censoringKm,
  defaultBrierTimes,
  harrellC,
  integratedBrier,
  riskToSurvival,
  unoC,
} from '../../../../compute/metrics/survival';

const dir = join(__dirname, '../../../fixtures/golden/metrics');
const load = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
const TOL = 1e-12;

function near(a: number, b: number, tol = TOL): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol);
}

interface BinaryCase {
  labels: number[];
  scores: number[];
  pred: number[];
  youden_cutoff: { threshold: number; j: number; sensitivity: number; specificity: number };
  delong: { auc: number; variance: number; lower: number; upper: number };
  [metric: string]: unknown;
}

function binaryInputs(c: { labels: number[]; scores: number[]; pred: number[] }) {
  const n = c.labels.length;
  const truth: Outcome = { kind: 'binary', labels: Int32Array.from(c.labels), classes: ['n', 'p'] };
  const proba = new Float64Array(2 * n);
  c.scores.forEach((s, i) => {
    proba[2 * i] = 1 - s;
    proba[2 * i + 1] = s;
  });
  const pred: Prediction = {
    kind: 'class',
    labels: Int32Array.from(c.pred),
    proba,
    classes: ['n', 'p'],
  };
  return { truth, pred };
}

describe('metrics vs scikit-learn golden fixtures', () => {
  const binary = load<BinaryCase[]>('binary.json');
  const codes = [
    'accuracy',
    'balanced_accuracy',
    'sensitivity',
    'specificity',
    'precision',
    'f1',
    'mcc',
    'roc_auc',
    'pr_auc',
    'brier',
    'youden',
  ];

  it.each(binary.map((c, i) => [i, c] as const))(
    'binary case %i: every metric to 1e-12',
    (_i, c) => {
      const { truth, pred } = binaryInputs(c);
      const got = scoreAll(codes, truth, pred);
      for (const code of codes) near(got[code]!, c[code] as number);
      near(scoreAll(['recall'], truth, pred).recall!, c.sensitivity as number);
      near(scoreAll(['average_precision'], truth, pred).average_precision!, c.pr_auc as number);
    },
  );

  it.each(binary.map((c, i) => [i, c] as const))(
    'binary case %i: Youden cutoff and DeLong CI',
    (_i, c) => {
      const y = youdenCutoff(c.labels, c.scores);
      near(y.threshold, c.youden_cutoff.threshold);
      near(y.j, c.youden_cutoff.j);
      near(y.sensitivity, c.youden_cutoff.sensitivity);
      near(y.specificity, c.youden_cutoff.specificity);
      near(delongVariance(c.labels, c.scores), c.delong.variance);
      const ci = rocAucCiDelong(c.labels, c.scores);
      near(ci.auc, c.delong.auc);
      near(ci.lower, c.delong.lower, 1e-9); // z from bisection on the normal CDF
      near(ci.upper, c.delong.upper, 1e-9);
    },
  );

  it('bootstrap AUC CI is seeded and brackets the AUC', () => {
    const c = binary[0]!;
    const a = rocAucCiBootstrap(c.labels, c.scores, new Rng(1), 500);
    const b = rocAucCiBootstrap(c.labels, c.scores, new Rng(1), 500);
    expect(a).toEqual(b);
    expect(a.lower).toBeLessThan(a.auc);
    expect(a.upper).toBeGreaterThan(a.auc);
    // DeLong and bootstrap widths agree roughly (same sampling variability)
    const d = rocAucCiDelong(c.labels, c.scores);
    expect(Math.abs(a.upper - a.lower - (d.upper - d.lower))).toBeLessThan(0.08);
  });

  it('multiclass: macro / micro / weighted averages, MCC and one-vs-rest AUC to 1e-12', () => {
    const cases =
      load<
        Array<
          Record<string, unknown> & { labels: number[]; proba: number[]; pred: number[]; k: number }
        >
      >('multiclass.json');
    for (const c of cases) {
      const classes = Array.from({ length: c.k }, (_, j) => `c${j}`);
      const truth: Outcome = { kind: 'multiclass', labels: Int32Array.from(c.labels), classes };
      const pred: Prediction = {
        kind: 'class',
        labels: Int32Array.from(c.pred),
        proba: Float64Array.from(c.proba),
        classes,
      };
      const codes = Object.keys(c).filter(k => !['labels', 'proba', 'pred', 'k'].includes(k));
      expect(codes.length).toBe(14);
      const got = scoreAll(codes, truth, pred);
      for (const code of codes) near(got[code]!, c[code] as number);
    }
  });

  it('regression metrics to 1e-12', () => {
    const [c] =
      load<Array<{ y: number[]; p: number[] } & Record<string, number>>>('regression.json');
    const got = scoreAll(
      ['mse', 'rmse', 'mae', 'r2', 'pearson'],
      { kind: 'continuous', values: Float64Array.from(c!.y) },
      { kind: 'value', values: Float64Array.from(c!.p) },
    );
    for (const code of Object.keys(got)) near(got[code]!, c![code]!);
  });

  describe('survival', () => {
    interface SurvCase {
      train: { time: number[]; event: number[]; risk: number[] };
      test: { time: number[]; event: number[]; risk: number[] };
      censoring_km: { times: number[]; values: number[] };
      harrell_c: number;
      uno_c: number;
      uno_c_self: number;
      brier_times: number[];
      surv_given: number[];
      brier_given: number[];
      ibs_given: number;
      surv_cox: number[];
      ibs_cox: number;
    }
    const cases = load<SurvCase[]>('survival.json');

    it.each(cases.map((c, i) => [i, c] as const))(
      'case %i: KM of censoring, Harrell C, Uno C',
      (_i, c) => {
        const g = censoringKm(c.train.time, c.train.event);
        expect(Array.from(g.times)).toEqual(c.censoring_km.times);
        g.values.forEach((v, k) => near(v, c.censoring_km.values[k]!));
        near(harrellC(c.test.time, c.test.event, c.test.risk), c.harrell_c);
        near(unoC(c.test.time, c.test.event, c.test.risk, g), c.uno_c);
        near(unoC(c.test.time, c.test.event, c.test.risk), c.uno_c_self);
      },
    );

    it.each(cases.map((c, i) => [i, c] as const))(
      'case %i: Brier curve, IBS, risk → survival',
      (_i, c) => {
        const times = defaultBrierTimes(c.test.time, c.test.event);
        expect(Array.from(times)).toEqual(c.brier_times);
        const g = censoringKm(c.train.time, c.train.event);
        const bs = brierScores(
          c.test.time,
          c.test.event,
          Float64Array.from(c.surv_given),
          times,
          g,
        );
        bs.forEach((v, k) => near(v, c.brier_given[k]!));
        near(
          integratedBrier(c.test.time, c.test.event, Float64Array.from(c.surv_given), times, g),
          c.ibs_given,
        );
        const surv = riskToSurvival(c.train, c.test.risk, times);
        surv.forEach((v, k) => near(v, c.surv_cox[k]!, 1e-9));
        near(integratedBrier(c.test.time, c.test.event, surv, times, g), c.ibs_cox, 1e-9);
      },
    );

    it('registered survival metrics use the training context', () => {
      const c = cases[0]!;
      const truth: Outcome = {
        kind: 'survival',
        time: Float64Array.from(c.test.time),
        event: Uint8Array.from(c.test.event),
      };
      const trainOutcome: Outcome = {
        kind: 'survival',
        time: Float64Array.from(c.train.time),
        event: Uint8Array.from(c.train.event),
      };
      const pred: Prediction = { kind: 'risk', risk: Float64Array.from(c.test.risk) };
      const ctx = {
        trainOutcome,
        trainPrediction: { kind: 'risk', risk: Float64Array.from(c.train.risk) } as Prediction,
      };
      const got = scoreAll(['c_index', 'uno_c', 'integrated_brier'], truth, pred, ctx);
      near(got.c_index!, c.harrell_c);
      near(got.uno_c!, c.uno_c);
      near(got.integrated_brier!, c.ibs_cox, 1e-9);
    });
  });

  it('every registered metric has a unique snake_case code and a task', () => {
    const codes = allMetrics.map(m => m.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const m of allMetrics) {
      expect(m.code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(m.tasks.length).toBeGreaterThan(0);
    }
    expect(() => findMetric('auc')).toThrow(/unknown metric/);
    expect(() =>
      scoreAll(
        ['r2'],
        { kind: 'binary', labels: new Int32Array(1), classes: ['a', 'b'] },
        { kind: 'value', values: new Float64Array(1) },
      ),
    ).toThrow(/does not apply/);
  });
});
