/**
 * Typed fields of a job result, resolved from the stored document (`result.extract.ts`) and from
 * object storage (artifacts, the saved model). A `JobResultType` only exists after the `result`
 * field of `Job` checked that the caller may see the job (owner or admin; anyone else gets
 * NOT_FOUND there), so these fields need no further ownership check.
 */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context.js';
import { AppError } from '../../errors.js';
import { JobResultType } from './job.types.js';
import { listArtifacts, readJsonObject } from './result.artifacts.js';
import {
  benchmarkRows,
  chosenParams,
  comparisonRows,
  featureRows,
  foldRows,
  metricRows,
  predictionCount,
  predictionRows,
  recommendation,
  signatureRows,
  tuningOf,
} from './result.extract.js';
import {
  Artifact,
  ArtifactKind,
  BenchmarkRow,
  FeatureScore,
  FoldMetrics,
  MetricValue,
  PredictionPage,
  Recommendation,
  Signature,
  SignatureComparison,
  TrainedModel,
  TuningResult,
} from './result.types.js';

/**
 * Page caps of the row lists (the API-wide rule: no list answers more than 100 per request; page
 * on with `offset` — the SDK's `jobs.fullResults` and the CLI do).
 */
export const MAX_FEATURE_ROWS = 100;
export const MAX_PREDICTION_ROWS = 100;
export const MAX_FOLD_ROWS = 100;
/** Saved models larger than this are not parsed for `model` (the file stays downloadable). */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

function page(first: number, offset: number, max: number): void {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw AppError.badInput(`first must be 1–${max}`, 'first');
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw AppError.badInput('offset must be ≥ 0', 'offset');
}

@Resolver(() => JobResultType)
export class JobResultResolver {
  @FieldResolver(() => [Artifact], {
    description:
      'Every file of the run (models, exports, plots, data) with a short-lived download URL',
  })
  async artifacts(
    @Root() r: JobResultType,
    @Ctx() ctx: Context,
    @Arg('kind', () => ArtifactKind, { nullable: true }) kind?: ArtifactKind | null,
    @Arg('name', () => String, { nullable: true, description: 'Exact name, e.g. model.json' })
    name?: string | null,
  ): Promise<Artifact[]> {
    const list = await listArtifacts(
      ctx.app.storage,
      { jobId: r.jobId, attempt: r.attempt, keys: r.artifactKeys, data: r.data },
      ctx.app.config.presignTtlSeconds,
      { kind, name },
    );
    return list.map(a => Object.assign(new Artifact(), a));
  }

  @FieldResolver(() => [FeatureScore], {
    description:
      'Per-feature rows: FEATURE_SELECTION one per selector × scored feature (the runner keeps the top 5,000 per selector); MODEL_TRAINING the model’s features (source "model", by importance) and each selection step; BENCHMARKING each signature’s features. Ordered by source, then rank; paged (first 1–100, offset).',
  })
  features(
    @Root() r: JobResultType,
    @Arg('source', () => String, { nullable: true, description: 'Only this selector / source' })
    source?: string | null,
    @Arg('selectedOnly', () => Boolean, { defaultValue: false }) selectedOnly?: boolean,
    @Arg('first', () => Int, {
      defaultValue: MAX_FEATURE_ROWS,
      description: `Page size 1–${MAX_FEATURE_ROWS} (default ${MAX_FEATURE_ROWS}); page on with offset`,
    })
    first = MAX_FEATURE_ROWS,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset = 0,
  ): FeatureScore[] {
    page(first, offset, MAX_FEATURE_ROWS);
    return featureRows(r.jobType, r.data)
      .filter(f => (!source || f.source === source) && (!selectedOnly || f.selected))
      .slice(offset, offset + first)
      .map(f => Object.assign(new FeatureScore(), f));
  }

  @FieldResolver(() => [Signature], {
    description: 'Candidate signatures (FEATURE_SELECTION: one per selector; BENCHMARKING)',
  })
  signatures(@Root() r: JobResultType): Signature[] {
    return signatureRows(r.jobType, r.data).map(s => Object.assign(new Signature(), s));
  }

  @FieldResolver(() => [MetricValue], {
    description:
      'Headline metrics: the CV mean ± SD (MODEL_TRAINING validation, tuning’s nested CV), or PREDICTION’s scores when its dataset has the outcome',
  })
  metrics(@Root() r: JobResultType): MetricValue[] {
    return metricRows(r.jobType, r.data).map(m => Object.assign(new MetricValue(), m));
  }

  @FieldResolver(() => [FoldMetrics], {
    description:
      'Per-fold held-out scores (MODEL_TRAINING with validation; HYPERPARAMETER_TUNING with nested validation; BENCHMARKING: the repeated CV on the training split per signature × model, in the `benchmark` rows’ order — their `cv` mean and SD are computed from exactly these scores)',
  })
  folds(
    @Root() r: JobResultType,
    @Arg('signature', () => String, {
      nullable: true,
      description: 'BENCHMARKING: only this signature',
    })
    signature?: string | null,
    @Arg('model', () => String, { nullable: true, description: 'Only this model code' })
    model?: string | null,
    @Arg('first', () => Int, {
      defaultValue: 100,
      description: `Page size 1–${MAX_FOLD_ROWS} (default ${MAX_FOLD_ROWS}); page on with offset`,
    })
    first = MAX_FOLD_ROWS,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset = 0,
  ): FoldMetrics[] {
    page(first, offset, MAX_FOLD_ROWS);
    return foldRows(r.jobType, r.data, r.jobConfig)
      .filter(f => (!signature || f.signature === signature) && (!model || f.model === model))
      .slice(offset, offset + first)
      .map(f => Object.assign(new FoldMetrics(), f));
  }

  @FieldResolver(() => [BenchmarkRow], {
    description: 'BENCHMARKING: signature × model rows, best signature (metaindex rank) first',
  })
  benchmark(@Root() r: JobResultType): BenchmarkRow[] {
    return benchmarkRows(r.jobType, r.data).map(b => Object.assign(new BenchmarkRow(), b));
  }

  @FieldResolver(() => Recommendation, {
    nullable: true,
    description: 'BENCHMARKING: the recommended signature and the reasons',
  })
  recommended(@Root() r: JobResultType): Recommendation | null {
    const rec = recommendation(r.jobType, r.data);
    return rec ? Object.assign(new Recommendation(), rec) : null;
  }

  @FieldResolver(() => [SignatureComparison], {
    description: 'BENCHMARKING: corrected resampled t-tests between the top signatures',
  })
  comparisons(@Root() r: JobResultType): SignatureComparison[] {
    return comparisonRows(r.jobType, r.data).map(c => Object.assign(new SignatureComparison(), c));
  }

  @FieldResolver(() => TuningResult, {
    nullable: true,
    description:
      'The search: chosen parameters and trial history (HYPERPARAMETER_TUNING; MODEL_TRAINING with tune)',
  })
  tuning(@Root() r: JobResultType): TuningResult | null {
    const t = tuningOf(r.jobType, r.data);
    return t ? Object.assign(new TuningResult(), t) : null;
  }

  @FieldResolver(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Chosen parameters: the trained model’s (tuned values included), or the tuning search’s best',
  })
  params(@Root() r: JobResultType): Record<string, unknown> | null {
    return chosenParams(r.jobType, r.data);
  }

  @FieldResolver(() => PredictionPage, {
    nullable: true,
    description: `PREDICTION: per-sample predictions, paged (first 1–${MAX_PREDICTION_ROWS}, offset ≥ 0); null for other job types`,
  })
  predictions(
    @Root() r: JobResultType,
    @Arg('first', () => Int, {
      defaultValue: MAX_PREDICTION_ROWS,
      description: `Page size 1–${MAX_PREDICTION_ROWS} (default ${MAX_PREDICTION_ROWS}); page on with offset`,
    })
    first = MAX_PREDICTION_ROWS,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset = 0,
  ): PredictionPage | null {
    // Arguments are checked whatever the job type, so a bad page size never passes silently.
    page(first, offset, MAX_PREDICTION_ROWS);
    if (r.jobType !== 'PREDICTION') return null;
    return Object.assign(new PredictionPage(), {
      totalCount: predictionCount(r.jobType, r.data),
      offset,
      rows: predictionRows(r.jobType, r.data, offset, first),
    });
  }

  @FieldResolver(() => TrainedModel, {
    nullable: true,
    description: 'MODEL_TRAINING: the saved model (code, format version, features, parameters)',
  })
  async model(@Root() r: JobResultType, @Ctx() ctx: Context): Promise<TrainedModel | null> {
    const key = r.data.modelArtifact;
    if (r.jobType !== 'MODEL_TRAINING' || typeof key !== 'string') return null;
    const state = await readJsonObject(ctx.app.storage, key, MAX_MODEL_JSON_BYTES);
    if (!state) return null;
    return Object.assign(new TrainedModel(), {
      code: typeof state.code === 'string' ? state.code : String(r.data.model ?? ''),
      formatVersion: typeof state.version === 'number' ? state.version : 0,
      features: Array.isArray(state.featureNames) ? (state.featureNames as string[]) : [],
      params:
        state.params && typeof state.params === 'object'
          ? (state.params as Record<string, unknown>)
          : {},
      artifactKey: key,
    });
  }
}
