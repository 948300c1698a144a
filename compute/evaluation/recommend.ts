/**
 * Ranking and recommendation for a benchmark: OmicSelector's metaindex (harmonic mean over
 * train / test / validation of the score averaged across models — accuracy for classification,
 * R² for continuous, Harrell's C for survival), the validation Youden index (binary), corrected
 * resampled t-tests between the top signatures, and human-readable reasons for the pick.
 */
import { type TaskType } from '../core/dataset';
import { type BenchmarkRow, type SignatureSource } from './benchmark';
import { harmonicMean, meanStd } from './summary';
import { correctedResampledTTest, type CorrectedTTest } from './ttest';

export interface SignatureSummary {
  name: string;
  source: 'selector' | 'user';
  selector?: string;
  features: string[];
  n_features: number;
  /** The metaindex metric averaged over models on each part. */
  mean_score: { train: number; test: number; validation: number };
  metaindex_metric: string;
  metaindex: number;
  /** Test and validation only (OmicSelector's without_train = TRUE). */
  metaindex_without_train: number;
  /** Mean validation sensitivity + mean validation specificity − 1 (binary; NaN otherwise). */
  validation_youden: number;
  /** CV score (compare metric) averaged over models and folds, and its SD over folds. */
  cv_score: number;
  cv_score_std: number;
  rank_metaindex: number;
  rank_youden: number;
}

export interface Comparison extends CorrectedTTest {
  a: string;
  b: string;
  metric: string;
}

export interface Recommendation {
  signature: string;
  features: string[];
  metaindex: number;
  validation_youden: number;
  cv_score: number;
  reasons: string[];
}

export function metaindexMetric(task: TaskType): string {
  return task === 'continuous' ? 'r2' : task === 'survival' ? 'c_index' : 'accuracy';
}

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function recommend(o: {
  task: TaskType;
  names: string[];
  sources: SignatureSource[];
  features: string[][];
  table: BenchmarkRow[];
  foldScores: number[][];
  compareMetric: string;
  nTrain: number;
  nTest: number;
  compareTop: number;
  hasValidation: boolean;
  nModels: number;
}): { signatures: SignatureSummary[]; comparisons: Comparison[]; recommended: Recommendation } {
  const metric = metaindexMetric(o.task);
  const S = o.names.length;
  const summaries: SignatureSummary[] = o.names.map((name, s) => {
    const rows = o.table.filter(r => r.signature === name);
    const avg = (part: 'train' | 'test' | 'validation', m: string): number =>
      meanStd(rows.map(r => r[part][m]!)).mean;
    const mean_score = {
      train: avg('train', metric),
      test: avg('test', metric),
      validation: avg('validation', metric),
    };
    const parts = o.hasValidation
      ? [mean_score.train, mean_score.test, mean_score.validation]
      : [mean_score.train, mean_score.test];
    const youden =
      o.task === 'binary' && o.hasValidation
        ? avg('validation', 'sensitivity') + avg('validation', 'specificity') - 1
        : NaN;
    const cv = meanStd(o.foldScores[s]!);
    const src = o.sources[s]!;
    return {
      name,
      source: src.selector ? 'selector' : 'user',
      selector: src.selector?.code,
      features: o.features[s]!,
      n_features: o.features[s]!.length,
      mean_score,
      metaindex_metric: metric,
      metaindex: harmonicMean(parts),
      metaindex_without_train: harmonicMean(parts.slice(1)),
      validation_youden: youden,
      cv_score: cv.mean,
      cv_score_std: cv.std,
      rank_metaindex: 0,
      rank_youden: 0,
    };
  });
  const desc = (a: number, b: number): number =>
    (Number.isFinite(b) ? b : -Infinity) - (Number.isFinite(a) ? a : -Infinity);
  const byMeta = summaries
    .map((x, s) => ({ x, s }))
    .sort(
      (a, b) =>
        desc(a.x.metaindex, b.x.metaindex) ||
        desc(a.x.validation_youden, b.x.validation_youden) ||
        a.x.n_features - b.x.n_features ||
        a.s - b.s,
    );
  byMeta.forEach((e, r) => (e.x.rank_metaindex = r + 1));
  summaries
    .map((x, s) => ({ x, s }))
    .sort((a, b) => desc(a.x.validation_youden, b.x.validation_youden) || a.s - b.s)
    .forEach((e, r) => (e.x.rank_youden = r + 1));

  const top = byMeta[0]!;
  const comparisons: Comparison[] = byMeta.slice(1, Math.max(1, o.compareTop)).map(other => ({
    a: top.x.name,
    b: other.x.name,
    metric: o.compareMetric,
    ...correctedResampledTTest(o.foldScores[top.s]!, o.foldScores[other.s]!, o.nTrain, o.nTest),
  }));

  const best = top.x;
  const reasons: string[] = [];
  const partsText = o.hasValidation
    ? `train ${fmt(best.mean_score.train)}, test ${fmt(best.mean_score.test)}, validation ${fmt(best.mean_score.validation)}`
    : `train ${fmt(best.mean_score.train)}, test ${fmt(best.mean_score.test)} (no validation split)`;
  reasons.push(
    `Highest metaindex among ${S} signature${S === 1 ? '' : 's'}: ${fmt(best.metaindex)}, the harmonic mean of the ${metric} averaged over ${o.nModels} model${o.nModels === 1 ? '' : 's'} on ${partsText}.`,
  );
  if (Number.isFinite(best.validation_youden)) {
    const bestY = summaries.find(x => x.rank_youden === 1)!;
    reasons.push(
      `Validation Youden's J ${fmt(best.validation_youden)} (rank ${best.rank_youden} of ${S}${bestY.name === best.name ? '' : `; best is ${bestY.name} with ${fmt(bestY.validation_youden)}`}).`,
    );
  }
  reasons.push(
    `Cross-validated ${o.compareMetric} ${fmt(best.cv_score)} ± ${fmt(best.cv_score_std)} over ${o.foldScores[top.s]!.length} folds of the training split, with feature selection re-run inside every training fold.`,
  );
  for (const c of comparisons) {
    const other = summaries.find(x => x.name === c.b)!;
    const sig = c.p_value < 0.05;
    let text = `${sig ? (c.mean_difference > 0 ? 'Significantly better than' : 'Significantly worse in CV than') : 'Not significantly different from'} ${c.b} on CV ${c.metric} (corrected resampled t-test: Δ = ${fmt(c.mean_difference)}, p = ${fmt(c.p_value)}).`;
    if (!sig && other.n_features < best.n_features) {
      text += ` ${c.b} uses fewer features (${other.n_features} vs ${best.n_features}) and is a reasonable parsimonious alternative.`;
    }
    reasons.push(text);
  }
  const gap = best.mean_score.train - best.mean_score.validation;
  if (o.hasValidation && Number.isFinite(gap) && gap > 0.15) {
    reasons.push(
      `Caution: training ${metric} exceeds validation by ${fmt(gap)}; the models overfit the training split, trust the validation and CV figures.`,
    );
  }
  const shown = best.features.slice(0, 15).join(', ');
  reasons.push(
    `${best.n_features} feature${best.n_features === 1 ? '' : 's'}: ${shown}${best.n_features > 15 ? ', …' : ''}.`,
  );
  return {
    signatures: summaries,
    comparisons,
    recommended: {
      signature: best.name,
      features: best.features,
      metaindex: best.metaindex,
      validation_youden: best.validation_youden,
      cv_score: best.cv_score,
      reasons,
    },
  };
}
