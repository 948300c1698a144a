/** Job type → runner. */
import { type JobTypeName } from '../../modules/jobs/job.model.js';
import { runBenchmarking } from './benchmarking.js';
import { type Runner } from './context.js';
import { runFeatureSelection } from './feature-selection.js';
import { runModelTraining } from './model-training.js';
import { runPrediction } from './prediction.js';
import { runPreprocessing } from './preprocessing.js';
import { runTuning } from './tuning.js';

export const runners: Record<JobTypeName, Runner> = {
  FEATURE_SELECTION: runFeatureSelection,
  MODEL_TRAINING: runModelTraining,
  HYPERPARAMETER_TUNING: runTuning,
  BENCHMARKING: runBenchmarking,
  PREPROCESSING: runPreprocessing,
  PREDICTION: runPrediction,
};
