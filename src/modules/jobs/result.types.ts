/**
 * Typed views of a job's result document (`JobResultType.data`) and its artifacts. The rows are
 * read from the stored document by `result.extract.ts` (no extra tables); the full document stays
 * available as `data`.
 */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ArtifactKind } from './result.artifacts.js';

export { ArtifactKind };
registerEnumType(ArtifactKind, {
  name: 'ArtifactKind',
  description:
    'MODEL: a saved model (PREDICTION reloads it); EXPORT: CSV/JSON/XLSX tables; PLOT: SVG/PNG; DATA: anything else (e.g. a preprocessed matrix)',
});

@ObjectType({ description: 'A file a job wrote to object storage' })
export class Artifact {
  @Field({ description: 'Storage key (jobs/<jobId>/attempt-<n>/…)' })
  key: string;

  @Field({ description: 'Path below the run’s artifact folder, e.g. model.json or plots/roc.svg' })
  name: string;

  @Field(() => ArtifactKind)
  kind: ArtifactKind;

  @Field({ description: 'From the file extension' })
  contentType: string;

  @Field(() => Float, { description: 'Size in bytes' })
  bytes: number;

  @Field({ description: 'When the object was written' })
  createdAt: Date;

  @Field({
    description:
      'Short-lived presigned GET URL (PRESIGNED_URL_TTL); fetch it without an Authorization header',
  })
  downloadUrl: string;

  @Field({ description: 'When downloadUrl stops working' })
  expiresAt: Date;
}

@ObjectType({ description: 'One metric: a value, or a mean with its SD over folds' })
export class MetricValue {
  @Field({ description: 'scikit-learn scorer name (roc_auc, accuracy, r2, c_index …)' })
  name: string;

  @Field(() => Float, {
    nullable: true,
    description: 'Null when undefined (e.g. AUC of one class)',
  })
  value: number | null;

  @Field(() => Float, { nullable: true, description: 'SD over folds, for cross-validated means' })
  std: number | null;
}

@ObjectType({
  description:
    'One feature as scored by one source: a selector (FEATURE_SELECTION, MODEL_TRAINING selection steps), the trained model’s importance (source "model"), or a benchmark signature',
})
export class FeatureScore {
  @Field({ description: 'Selector code, "model", or the signature name (BENCHMARKING)' })
  source: string;

  @Field({ description: 'Feature name' })
  name: string;

  @Field(() => Int, { description: '1 = best within the source (by score, else list order)' })
  rank: number;

  @Field(() => Float, { nullable: true, description: 'Higher = better (the method’s own scale)' })
  score: number | null;

  @Field({ description: 'Kept by the source (in the signature / in the model)' })
  selected: boolean;

  @Field(() => Float, {
    nullable: true,
    description:
      'Selection frequency: stability selection’s subsample frequency, or the fraction of CV folds whose model used the feature (MODEL_TRAINING with validation)',
  })
  frequency: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Univariate test p-value, when the method has one',
  })
  pValue: number | null;

  @Field(() => Float, { nullable: true, description: 'Multiple-testing adjusted p-value' })
  adjustedPValue: number | null;

  @Field(() => Float, { nullable: true, description: 'Test statistic, when the method has one' })
  statistic: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Ensembles: how many member selectors chose it',
  })
  votes: number | null;
}

@ObjectType({
  description:
    'Scores of one cross-validation fold (held-out rows); BENCHMARKING: one per signature × model × fold',
})
export class FoldMetrics {
  @Field(() => String, {
    nullable: true,
    description: 'BENCHMARKING: the signature (null for other job types)',
  })
  signature: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Model code: the benchmark row’s (BENCHMARKING) or the job’s model',
  })
  model: string | null;

  @Field(() => Int, {
    description: 'Position in the fold list, 0-based (BENCHMARKING: within its signature × model)',
  })
  index: number;

  @Field(() => Int, { description: 'Repeat, 0-based (0 unless the splitter repeats)' })
  repeat: number;

  @Field(() => Int, { description: 'Fold within its repeat, 0-based' })
  fold: number;

  @Field(() => Int, { nullable: true })
  nTrain: number | null;

  @Field(() => Int, { nullable: true })
  nTest: number | null;

  @Field(() => [MetricValue], { description: 'Held-out scores' })
  metrics: MetricValue[];

  @Field(() => [MetricValue], { nullable: true, description: 'Scores on the fold’s training rows' })
  trainMetrics: MetricValue[] | null;

  @Field(() => [String], { description: 'Features the fold’s model used' })
  selected: string[];

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Parameters of the fold’s model' })
  modelParams: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Nested tuning inside the fold: best_params, best_score, n_trials',
  })
  tuning: Record<string, unknown> | null;

  @Field(() => Float, { nullable: true })
  seconds: number | null;
}

@ObjectType({ description: 'A named feature list (a candidate signature)' })
export class Signature {
  @Field()
  name: string;

  @Field(() => [String])
  features: string[];

  @Field(() => String, { nullable: true, description: 'selector | user (BENCHMARKING)' })
  source: string | null;

  @Field(() => String, { nullable: true, description: 'Selector code, when selector-made' })
  selector: string | null;
}

@ObjectType({ description: 'One signature × model cell of a benchmark' })
export class BenchmarkRow {
  @Field({ description: 'Signature name' })
  signature: string;

  @Field(() => [String], {
    description: 'The signature’s features (selected on the training split)',
  })
  features: string[];

  @Field(() => Int)
  nFeatures: number;

  @Field({ description: 'Model code' })
  model: string;

  @Field(() => [MetricValue], { description: 'Resubstitution scores of the final fit' })
  train: MetricValue[];

  @Field(() => [MetricValue], {
    description: 'Repeated CV on the training split (mean, with std); selection re-run per fold',
  })
  cv: MetricValue[];

  @Field(() => [MetricValue], { description: 'Test split' })
  test: MetricValue[];

  @Field(() => [MetricValue], { description: 'Validation split (never seen by selection)' })
  validation: MetricValue[];

  @Field(() => Float, {
    nullable: true,
    description:
      'The signature’s metaindex: harmonic mean over train/test/validation of the metric averaged across models',
  })
  metaindex: number | null;

  @Field(() => String, { nullable: true, description: 'accuracy, r2 or c_index' })
  metaindexMetric: string | null;

  @Field(() => Int, { nullable: true, description: 'The signature’s rank by metaindex (1 = best)' })
  rank: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Validation sensitivity + specificity − 1 (binary)',
  })
  validationYouden: number | null;

  @Field(() => Int, { nullable: true, description: 'The signature’s rank by validation Youden' })
  rankYouden: number | null;
}

@ObjectType({ description: 'Corrected resampled t-test between two top signatures' })
export class SignatureComparison {
  @Field()
  a: string;

  @Field()
  b: string;

  @Field()
  metric: string;

  @Field(() => Float, { nullable: true, description: 'Mean of (a − b) over CV folds' })
  meanDifference: number | null;

  @Field(() => Float, { nullable: true })
  t: number | null;

  @Field(() => Float, { nullable: true })
  df: number | null;

  @Field(() => Float, { nullable: true })
  pValue: number | null;
}

@ObjectType({ description: 'The benchmark’s recommended signature and why' })
export class Recommendation {
  @Field()
  signature: string;

  @Field(() => [String])
  features: string[];

  @Field(() => Float, { nullable: true })
  metaindex: number | null;

  @Field(() => Float, { nullable: true })
  validationYouden: number | null;

  @Field(() => Float, { nullable: true })
  cvScore: number | null;

  @Field(() => [String], { description: 'Human-readable reasons for the pick' })
  reasons: string[];
}

@ObjectType({ description: 'One tuning trial (inner CV)' })
export class TuningTrial {
  @Field(() => Int)
  number: number;

  @Field(() => GraphQLJSONObject)
  params: Record<string, unknown>;

  @Field(() => Float, { nullable: true, description: 'Mean inner-CV metric (null: failed trial)' })
  score: number | null;

  @Field(() => [Float], { description: 'Inner-CV metric per fold (NaN folds omitted)' })
  scoresPerFold: number[];

  @Field({ description: 'complete | failed' })
  state: string;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => Float, { nullable: true })
  seconds: number | null;
}

@ObjectType({ description: 'Hyperparameter search: the chosen parameters and every trial' })
export class TuningResult {
  @Field()
  model: string;

  @Field({ description: 'tpe | random' })
  strategy: string;

  @Field()
  metric: string;

  @Field()
  greaterIsBetter: boolean;

  @Field(() => GraphQLJSONObject, { description: 'The chosen (tuned) parameters' })
  bestParams: Record<string, unknown>;

  @Field(() => Float, { nullable: true })
  bestScore: number | null;

  @Field(() => String, { nullable: true, description: 'n_trials | timeout' })
  stoppedBy: string | null;

  @Field(() => Int)
  nTrials: number;

  @Field(() => [TuningTrial])
  trials: TuningTrial[];
}

@ObjectType({ description: 'Probability of one class for one sample' })
export class ClassProbability {
  @Field({ name: 'class' })
  label: string;

  @Field(() => Float, { nullable: true })
  probability: number | null;
}

@ObjectType({ description: 'One scored sample (PREDICTION)' })
export class SamplePrediction {
  @Field()
  sampleId: string;

  @Field(() => String, { nullable: true, description: 'Predicted class (classification)' })
  label: string | null;

  @Field(() => [ClassProbability], { nullable: true, description: 'Per-class probabilities' })
  probabilities: ClassProbability[] | null;

  @Field(() => Float, { nullable: true, description: 'Predicted value (regression)' })
  value: number | null;

  @Field(() => Float, { nullable: true, description: 'Risk score (survival; higher = worse)' })
  risk: number | null;
}

@ObjectType({ description: 'A page of per-sample predictions, in the dataset’s sample order' })
export class PredictionPage {
  @Field(() => Int)
  totalCount: number;

  @Field(() => Int)
  offset: number;

  @Field(() => [SamplePrediction])
  rows: SamplePrediction[];
}

@ObjectType({ description: 'The model a MODEL_TRAINING job saved (read from its artifact)' })
export class TrainedModel {
  @Field()
  code: string;

  @Field(() => Int, {
    description: 'Format version stored inside the model file; PREDICTION refuses unknown ones',
  })
  formatVersion: number;

  @Field(() => [String], { description: 'Features the model needs, in order' })
  features: string[];

  @Field(() => GraphQLJSONObject, { description: 'Chosen parameters (tuned where tuning ran)' })
  params: Record<string, unknown>;

  @Field({ description: 'Storage key of the model file' })
  artifactKey: string;
}
