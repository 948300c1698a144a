/**
 * CSV/TSV → Dataset for the CLI, deciding the outcome type of `--target`.
 *
 * `--target col` is read as class labels first (one pass over the file), then typed:
 *   - `--task` given: that type (binary | multiclass | continuous);
 *   - exactly two distinct values: binary; the positive class is `--positive-class`, else the
 *     second of the two in sorted order (numeric order when both are numbers, so 0/1 → 1 and
 *     "case"/"control" → "control"; pass --positive-class to be explicit);
 *   - all values numeric with more than 10 distinct values, or numeric with a non-integer value
 *     and more than two distinct values: continuous;
 *   - otherwise: multiclass (classes in sorted order).
 * `--time col --event col` gives a survival outcome (event 1 = event, 0 = censored).
 */
import { existsSync } from 'node:fs';
import { type Dataset, type Outcome } from '../core/dataset';
import { residentDataset } from '../kernels/resident';
import { readTabularFile, TabularParseError, type TabularSummary } from '../io/tabular';
import { UsageError } from './errors';

export type TargetTask = 'binary' | 'multiclass' | 'continuous';

export interface DatasetFlags {
  input?: string;
  sampleId?: string;
  target?: string;
  positiveClass?: string;
  task?: string;
  time?: string;
  event?: string;
  /** Columns that are neither features nor the outcome (other clinical annotations). */
  ignore?: string[];
}

export interface LoadedDataset {
  dataset: Dataset;
  summary: TabularSummary;
  /** How the outcome type was decided, for the readable output. */
  outcomeNote: string;
}

/** Distinct-value count above which a numeric target is continuous. */
const MAX_NUMERIC_CLASSES = 10;

function isNumber(s: string): boolean {
  return s.trim() !== '' && Number.isFinite(Number(s));
}

/** Validate the flag combination before touching the file. */
export function checkDatasetFlags(f: DatasetFlags, needsOutcome: boolean, method: string): void {
  if (!f.input) throw new UsageError('--input', 'is required (a CSV or TSV file, samples as rows)');
  if (!existsSync(f.input)) throw new UsageError('--input', `no such file: ${f.input}`);
  if (f.target && (f.time || f.event)) {
    throw new UsageError('--target', 'give either --target or --time with --event, not both');
  }
  if (Boolean(f.time) !== Boolean(f.event)) {
    throw new UsageError(
      f.time ? '--event' : '--time',
      'survival outcomes need both --time and --event',
    );
  }
  if (f.positiveClass !== undefined && !f.target) {
    throw new UsageError('--positive-class', 'only applies with --target');
  }
  if (f.task !== undefined) {
    if (!f.target) throw new UsageError('--task', 'only applies with --target');
    if (!['binary', 'multiclass', 'continuous'].includes(f.task)) {
      throw new UsageError(
        '--task',
        `must be binary, multiclass or continuous, got ${JSON.stringify(f.task)}`,
      );
    }
  }
  if (needsOutcome && !f.target && !f.time) {
    throw new UsageError(
      '--target',
      `${method} needs an outcome: give --target <column> (or --time and --event)`,
    );
  }
}

function compareLabels(a: string, b: string): number {
  if (isNumber(a) && isNumber(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Turn class labels read from the target column into the outcome type the rules above pick. */
export function typeTarget(
  labels: Int32Array,
  classes: string[],
  flags: Pick<DatasetFlags, 'task' | 'positiveClass' | 'target'>,
): { outcome: Outcome; note: string } {
  const numeric = classes.every(isNumber);
  const nonInteger = numeric && classes.some(c => !Number.isInteger(Number(c)));
  let task = flags.task as TargetTask | undefined;
  let why = 'chosen with --task';
  if (!task) {
    if (classes.length === 2) {
      task = 'binary';
      why = 'two distinct values';
    } else if (numeric && (classes.length > MAX_NUMERIC_CLASSES || nonInteger)) {
      task = 'continuous';
      why = `numeric with ${classes.length} distinct values`;
    } else {
      task = 'multiclass';
      why = `${classes.length} distinct values`;
    }
  }
  if (flags.positiveClass !== undefined && task !== 'binary') {
    throw new UsageError('--positive-class', `the target is ${task} (${why}), not binary`);
  }
  if (task === 'continuous') {
    if (!numeric) {
      const bad = classes.find(c => !isNumber(c))!;
      throw new UsageError(
        '--task',
        `a continuous target must be numeric; found ${JSON.stringify(bad)}`,
      );
    }
    const value = classes.map(Number);
    return {
      outcome: { kind: 'continuous', values: Float64Array.from(labels, l => value[l]!) },
      note: `continuous (${why})`,
    };
  }
  if (task === 'binary') {
    if (classes.length !== 2) {
      throw new UsageError(
        '--task',
        `binary needs exactly two classes, the target has ${classes.length}`,
      );
    }
    const sorted = classes.slice().sort(compareLabels);
    const pos = flags.positiveClass ?? sorted[1]!;
    if (!classes.includes(pos)) {
      throw new UsageError(
        '--positive-class',
        `${JSON.stringify(pos)} is not a value of ${flags.target} (values: ${sorted.join(', ')})`,
      );
    }
    const neg = classes.find(c => c !== pos)!;
    const posIdx = classes.indexOf(pos);
    return {
      outcome: {
        kind: 'binary',
        labels: Int32Array.from(labels, l => (l === posIdx ? 1 : 0)),
        classes: [neg, pos],
      },
      note: `binary (${why}; positive class ${JSON.stringify(pos)})`,
    };
  }
  return { outcome: { kind: 'multiclass', labels, classes }, note: `multiclass (${why})` };
}

export async function loadDataset(f: DatasetFlags, signal?: AbortSignal): Promise<LoadedDataset> {
  const base = { sampleIdColumn: f.sampleId, ignoreColumns: f.ignore, signal };
  try {
    const loaded = await loadTyped(f, base);
    // into WebAssembly memory once, for the SIMD kernels to read in place (kernels/resident.ts)
    return { ...loaded, dataset: residentDataset(loaded.dataset) };
  } catch (e) {
    // a second annotation column (subtype, batch, free text …) is the usual cause on real files
    if (e instanceof TabularParseError && e.code === 'NON_NUMERIC' && e.columnName) {
      e.message += ` — if "${e.columnName}" is not a feature, pass --ignore ${JSON.stringify(e.columnName)}`;
    }
    throw e;
  }
}

async function loadTyped(
  f: DatasetFlags,
  base: { sampleIdColumn?: string; ignoreColumns?: string[]; signal?: AbortSignal },
): Promise<LoadedDataset> {
  if (f.time && f.event) {
    const r = await readTabularFile(f.input!, {
      ...base,
      outcome: { kind: 'survival', timeColumn: f.time, eventColumn: f.event },
    });
    return { ...r, outcomeNote: 'survival' };
  }
  if (!f.target) {
    const r = await readTabularFile(f.input!, { ...base, outcome: { kind: 'none' } });
    return { ...r, outcomeNote: 'none' };
  }
  if (f.task === 'continuous') {
    // Read as numbers directly: reading as class labels first would refuse a constant target
    // as "a multiclass outcome needs at least two classes" although the user said continuous.
    if (f.positiveClass !== undefined) {
      throw new UsageError(
        '--positive-class',
        'the target is continuous (chosen with --task), not binary',
      );
    }
    const r = await readTabularFile(f.input!, {
      ...base,
      outcome: { kind: 'continuous', column: f.target },
    });
    return { ...r, outcomeNote: 'continuous (chosen with --task)' };
  }
  const r = await readTabularFile(f.input!, {
    ...base,
    outcome: { kind: 'multiclass', column: f.target },
  });
  const o = r.dataset.outcome;
  if (o.kind !== 'multiclass') throw new Error('internal: target read as classes');
  const { outcome, note } = typeTarget(o.labels, o.classes, f);
  return { dataset: { ...r.dataset, outcome }, summary: r.summary, outcomeNote: note };
}
