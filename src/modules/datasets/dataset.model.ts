/**
 * Plain enums and JSON shapes of the datasets module, shared by the entity, the GraphQL types and
 * other modules (jobs read `DatasetStatus`).
 */
import { type OutcomeSummary } from '../../../compute/io/tabular.js';

export enum DatasetStatus {
  /** Row created; the file is being (or waiting to be) uploaded. */
  UPLOADING = 'UPLOADING',
  /** The upload is complete and is being parsed into the binary matrix. */
  PROCESSING = 'PROCESSING',
  READY = 'READY',
  /** Parsing or the upload failed; `failureReason` says why. */
  FAILED = 'FAILED',
}

export enum DataType {
  BULK_RNA_SEQ = 'BULK_RNA_SEQ',
  SINGLE_CELL_RNA_SEQ = 'SINGLE_CELL_RNA_SEQ',
  METHYLATION = 'METHYLATION',
  COPY_NUMBER = 'COPY_NUMBER',
  PROTEOMICS = 'PROTEOMICS',
  METABOLOMICS = 'METABOLOMICS',
  CLINICAL = 'CLINICAL',
  OTHER = 'OTHER',
}

export enum OutcomeKindName {
  NONE = 'NONE',
  BINARY = 'BINARY',
  MULTICLASS = 'MULTICLASS',
  CONTINUOUS = 'CONTINUOUS',
  SURVIVAL = 'SURVIVAL',
}

/** How to read the file: what the client sent with the upload, kept so a retry parses the same way. */
export interface ParseOptionsRecord {
  sampleIdColumn?: string;
  outcome:
    | { kind: 'none' }
    | { kind: 'binary'; column: string; positiveClass: string }
    | { kind: 'multiclass'; column: string }
    | { kind: 'continuous'; column: string }
    | { kind: 'survival'; timeColumn: string; eventColumn: string };
  batchColumn?: string;
  ignoreColumns?: string[];
  delimiter?: ',' | '\t';
  missing: 'allow' | 'error';
}

/** Where parsing failed (from TabularParseError), stored with a FAILED dataset. */
export interface FailureRecord {
  code: string;
  line: number | null;
  column: number | null;
  columnName?: string;
}

export type OutcomeSummaryRecord = OutcomeSummary;
