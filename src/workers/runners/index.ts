/** Job type → runner. Types whose compute has not landed yet fail clearly without retry. */
import { type JobTypeName } from '../../modules/jobs/job.model.js';
import { JobInputError, type Runner } from './context.js';
import { runFeatureSelection } from './feature-selection.js';
import { runModelTraining } from './model-training.js';
import { runPrediction } from './prediction.js';

const notYet =
  (what: string): Runner =>
  async () => {
    throw new JobInputError(
      'BAD_CONFIG',
      `${what} jobs are not available in this build yet`,
      'type',
    );
  };

export const runners: Record<JobTypeName, Runner> = {
  FEATURE_SELECTION: runFeatureSelection,
  MODEL_TRAINING: runModelTraining,
  PREDICTION: runPrediction,
  HYPERPARAMETER_TUNING: notYet('HYPERPARAMETER_TUNING'),
  BENCHMARKING: notYet('BENCHMARKING'),
  PREPROCESSING: notYet('PREPROCESSING'),
};
