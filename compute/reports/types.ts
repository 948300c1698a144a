/**
 * What the report builders read and write. Inputs are the JSON-safe result documents the job
 * runners store (NaN already turned into null), plus held-out predictions that are too large for
 * the result document but are what ROC and Kaplan–Meier plots need.
 */
import { type Outcome } from '../core/dataset';
import { type Prediction } from '../core/method';

export type Cell = string | number | boolean | null;

/** One exported table: a CSV / JSON file and one XLSX sheet. */
export interface Table {
  /** File stem and sheet name: [a-z0-9_]+, at most 31 characters (Excel's sheet-name limit). */
  name: string;
  columns: string[];
  rows: Cell[][];
}

export interface ReportFile {
  /** File name with its extension (.csv, .json, .xlsx, .svg); the storage key's last part. */
  name: string;
  kind: 'export' | 'plot';
  contentType: string;
  body: Buffer | string;
}

/** Held-out predictions for one group of samples (a CV fold, the validation split …). */
export interface PredictionPart {
  /** Fold number or split name, exported as the `group` column. */
  group: string;
  sampleIds: string[];
  /** True outcome of these samples (same order as the predictions). */
  truth: Outcome;
  prediction: Prediction;
}

/** Predictions of one model (one signature × model in a benchmark), for one curve. */
export interface PredictionSet {
  /** Curve label, e.g. the model code. */
  label: string;
  signature?: string;
  model?: string;
  /** Where the predictions come from, for plot subtitles (e.g. "out-of-fold (5 folds)"). */
  source: string;
  parts: PredictionPart[];
}

export type ReportJobType =
  | 'FEATURE_SELECTION'
  | 'MODEL_TRAINING'
  | 'HYPERPARAMETER_TUNING'
  | 'BENCHMARKING'
  | 'PREDICTION'
  | 'PREPROCESSING';

export interface ReportInput {
  type: ReportJobType;
  /** The runner's result document (`output.data`). */
  data: Record<string, unknown>;
  predictions?: PredictionSet[];
  /** Bars in importance / frequency plots (default 20 / 30). */
  topN?: number;
  /** Skip the XLSX workbook (tests of the other formats). */
  xlsx?: boolean;
}
