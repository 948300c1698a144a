/** Registered survival metrics: c_index (Harrell), uno_c (IPCW) and integrated_brier (IPCW, Graf). */
import { type Outcome } from '../core/dataset';
import { type MetricDef, type Prediction } from '../core/method';
import {
  censoringKm,
  defaultBrierTimes,
  harrellC,
  integratedBrier,
  riskToSurvival,
  unoC,
} from './survival';
import { riskPrediction, survivalTruth, type ContextMetricDef, type ScoringContext } from './types';

const base = {
  kind: 'metric' as const,
  tasks: ['survival'] as const,
  needsScores: true,
};

export const cIndex: MetricDef = {
  ...base,
  code: 'c_index',
  label: "Harrell's C",
  description:
    'Fraction of comparable pairs whose predicted risks are ordered like their survival times (ties ½).',
  reference: 'Harrell et al. 1982 JAMA 247:2543; scikit-survival concordance_index_censored',
  greaterIsBetter: true,
  compute: (truth, prediction) => {
    const s = survivalTruth(truth);
    return harrellC(s.time, s.event, riskPrediction(prediction));
  },
};

function trainCensoring(truth: Outcome, ctx: ScoringContext) {
  const train = ctx.trainOutcome?.kind === 'survival' ? ctx.trainOutcome : survivalTruth(truth);
  return { train, censoring: censoringKm(train.time, train.event) };
}

export const unoCIndex: ContextMetricDef = {
  ...base,
  code: 'uno_c',
  label: "Uno's C",
  description:
    "Harrell's C with inverse-probability-of-censoring weights Ĝ(T−)^−2 (censoring KM from the training samples).",
  reference: 'Uno et al. 2011 Stat Med 30:1105; scikit-survival concordance_index_ipcw',
  greaterIsBetter: true,
  compute: (truth, prediction) => unoCIndex.computeWith(truth, prediction, {}),
  computeWith: (truth, prediction, ctx) => {
    const s = survivalTruth(truth);
    return unoC(s.time, s.event, riskPrediction(prediction), trainCensoring(truth, ctx).censoring);
  },
};

export const integratedBrierMetric: ContextMetricDef = {
  ...base,
  code: 'integrated_brier',
  label: 'Integrated Brier score',
  description:
    'IPCW Brier score integrated over the event times between the 10th and 90th percentile of follow-up; risks are turned into survival curves by a one-covariate Cox fit + Breslow baseline on the training predictions.',
  reference: 'Graf et al. 1999 Stat Med 18:2529; scikit-survival integrated_brier_score',
  greaterIsBetter: false,
  compute: (truth, prediction) => integratedBrierMetric.computeWith(truth, prediction, {}),
  computeWith: (truth: Outcome, prediction: Prediction, ctx: ScoringContext) => {
    const s = survivalTruth(truth);
    const risk = riskPrediction(prediction);
    const { train, censoring } = trainCensoring(truth, ctx);
    const trainRisk =
      ctx.trainPrediction?.kind === 'risk' && ctx.trainOutcome ? ctx.trainPrediction.risk : risk;
    const calib = trainRisk === risk ? s : train;
    const times = defaultBrierTimes(s.time, s.event);
    if (times.length < 2) return NaN;
    const surv = riskToSurvival(
      { time: calib.time, event: calib.event, risk: trainRisk },
      risk,
      times,
    );
    return integratedBrier(s.time, s.event, surv, times, censoring);
  },
};

export const survivalMetrics: MetricDef[] = [cIndex, unoCIndex, integratedBrierMetric];
