/**
 * Streaming CSV/TSV (optionally gzip) → Dataset. Rows are samples, columns are features.
 *
 * One pass over the input with bounded memory: the raw bytes are hashed and decoded chunk by chunk
 * (text.ts), records.ts turns text into one record at a time (native split for quote-free lines,
 * csv-parse from the first quoted line on), and each record's numeric cells go straight into a
 * row-major chunk of a Float64Array. Nothing holds the file, only the matrix.
 *
 * Memory layout while reading: we do not know the number of rows until the end, and the Dataset
 * wants column-major storage. Two options: (a) one growable array per feature, or (b) fixed-size
 * row-major chunks transposed once at the end. We use (b): with 20,000 features, (a) means 20,000
 * separate arrays each re-allocated and copied log2(n) times (up to 2× slack each, heavy GC churn),
 * whereas (b) appends each parsed row with sequential writes into one ~8 MB block, wastes at most
 * one partly-filled block, and the final transpose is a single pass (see `MatrixBuilder.finish`).
 * Peak memory is therefore about 2 × (rows × features × 8 bytes) for the moment of the transpose.
 */
import { createReadStream } from 'node:fs';
import { type Dataset, makeDataset } from '../core/dataset';
import { CellKind, DEFAULT_MISSING_TOKENS, makeCellParser } from './cells';
import { TabularParseError, quoteCell } from './errors';
import {
  type CellRef,
  type OutcomeSpec,
  type OutcomeSummary,
  makeOutcomeCollector,
  outcomeColumnNames,
} from './outcome';
import { lineModeOf, readRecords } from './records';
import { type ByteSource, type TextStats, decodeText } from './text';

export { TabularParseError, type TabularErrorCode } from './errors';
export type { OutcomeSpec, OutcomeSummary, ClassCount } from './outcome';
export { DEFAULT_MISSING_TOKENS } from './cells';

export type Delimiter = ',' | '\t';

export interface TabularLimits {
  /** Header fields (all columns, not only features). */
  maxColumns: number;
  /** Data rows (samples). */
  maxRows: number;
  /** rows × feature columns: bounds the matrix (8 bytes each, ~2× during the final transpose). */
  maxCells: number;
  /** Characters in one record (csv-parse `max_record_size`): bounds one line, e.g. a file without newlines. */
  maxRecordChars: number;
  /** Decompressed bytes: bounds the work a gzip bomb or a file of blank lines causes. */
  maxTextBytes: number;
}

export const DEFAULT_LIMITS: Readonly<TabularLimits> = {
  maxColumns: 1_000_000,
  maxRows: 1_000_000,
  maxCells: 100_000_000,
  maxRecordChars: 64 * 1024 * 1024,
  maxTextBytes: 4 * 1024 * 1024 * 1024,
};

export interface TabularOptions {
  /** Sample-id column name (default: the first column, which may have an empty header). */
  sampleIdColumn?: string;
  outcome?: OutcomeSpec;
  /** Optional batch label column (kept as strings, not a feature). */
  batchColumn?: string;
  /** Columns dropped entirely (e.g. free-text annotations). Each must exist. */
  ignoreColumns?: readonly string[];
  /** Field delimiter; 'auto' (default) picks tab or comma from the header line. */
  delimiter?: Delimiter | 'auto';
  /** 'allow' (default): missing tokens become NaN. 'error': any missing feature value is rejected. */
  missing?: 'allow' | 'error';
  /** Cells read as missing (exact match after trimming spaces). Default: DEFAULT_MISSING_TOKENS. */
  missingTokens?: readonly string[];
  limits?: Partial<TabularLimits>;
  signal?: AbortSignal;
}

export interface TabularSummary {
  nSamples: number;
  nFeatures: number;
  /** Missing feature values (NaN cells). */
  missingCount: number;
  outcome: OutcomeSummary;
  /** Hex SHA-256 of the bytes as read (compressed bytes for gzip). */
  sha256: string;
  /** Bytes as read (compressed size for gzip). */
  sizeBytes: number;
  /** Bytes after decompression. */
  textBytes: number;
  gzip: boolean;
  delimiter: Delimiter;
  sampleIdColumn: string;
  batchColumn: string | null;
  ignoredColumns: string[];
}

export interface TabularResult {
  dataset: Dataset;
  summary: TabularSummary;
}

/** Which physical column plays which role. */
interface ColumnPlan {
  names: string[];
  idCol: number;
  batchCol: number;
  featureCols: Int32Array;
  featureNames: string[];
  outcomeCols: number[];
}

const HEADER_LINE = 1;

function planColumns(
  header: string[],
  opts: TabularOptions,
  outcome: OutcomeSpec,
  limits: TabularLimits,
): ColumnPlan {
  if (header.length > limits.maxColumns) {
    throw new TabularParseError(
      'TOO_LARGE',
      HEADER_LINE,
      limits.maxColumns + 1,
      `the header has ${header.length} columns, more than the limit of ${limits.maxColumns}`,
    );
  }
  const names = header.map(h => h.trim());
  const pos = new Map<string, number>();
  const dupes: string[] = [];
  let firstDupe = -1;
  names.forEach((name, j) => {
    if (name === '') return;
    if (pos.has(name)) {
      if (firstDupe === -1) firstDupe = j;
      if (!dupes.includes(name)) dupes.push(name);
    } else pos.set(name, j);
  });
  // The first column may be unnamed when it holds the sample ids (R's write.csv writes "" there).
  const empties = names
    .map((n, j) => (n === '' && !(j === 0 && opts.sampleIdColumn === undefined) ? j : -1))
    .filter(j => j >= 0);
  if (empties.length > 0) {
    const list = empties
      .slice(0, 10)
      .map(j => j + 1)
      .join(', ');
    throw new TabularParseError(
      'EMPTY_COLUMN_NAME',
      HEADER_LINE,
      empties[0]! + 1,
      `empty column name${empties.length > 1 ? `s at columns ${list}${empties.length > 10 ? ', …' : ''}` : ''}; every column needs a unique name`,
    );
  }
  if (dupes.length > 0) {
    const list = dupes
      .slice(0, 10)
      .map(d => quoteCell(d))
      .join(', ');
    throw new TabularParseError(
      'DUPLICATE_COLUMN',
      HEADER_LINE,
      firstDupe + 1,
      `duplicate column name${dupes.length > 1 ? 's' : ''} ${list}${dupes.length > 10 ? ', …' : ''}; column names must be unique`,
      names[firstDupe],
    );
  }

  const find = (name: string, role: string): number => {
    const j = pos.get(name.trim());
    if (j === undefined) {
      const shown = names
        .slice(0, 8)
        .map(n => quoteCell(n))
        .join(', ');
      throw new TabularParseError(
        'MISSING_COLUMN',
        HEADER_LINE,
        null,
        `${role} column ${quoteCell(name)} is not in the header (columns: ${shown}${names.length > 8 ? ', …' : ''})`,
      );
    }
    return j;
  };

  const roles = new Map<number, string>();
  const claim = (j: number, role: string): void => {
    const prior = roles.get(j);
    if (prior !== undefined) {
      throw new TabularParseError(
        'COLUMN_ROLE_CONFLICT',
        HEADER_LINE,
        j + 1,
        `column is used both as ${prior} and as ${role}`,
        names[j],
      );
    }
    roles.set(j, role);
  };

  const idCol = opts.sampleIdColumn === undefined ? 0 : find(opts.sampleIdColumn, 'sample id');
  claim(idCol, 'the sample id');
  const outcomeRoles =
    outcome.kind === 'survival' ? ['the survival time', 'the event'] : ['the outcome'];
  const outcomeCols = outcomeColumnNames(outcome).map((name, k) => {
    const j = find(
      name,
      outcome.kind === 'survival' ? (k === 0 ? 'survival time' : 'event') : 'outcome',
    );
    claim(j, outcomeRoles[k]!);
    return j;
  });
  const batchCol = opts.batchColumn === undefined ? -1 : find(opts.batchColumn, 'batch');
  if (batchCol >= 0) claim(batchCol, 'the batch');
  for (const name of opts.ignoreColumns ?? []) claim(find(name, 'ignored'), 'ignored');

  const featureCols: number[] = [];
  for (let j = 0; j < names.length; j++) if (!roles.has(j)) featureCols.push(j);
  if (featureCols.length === 0) {
    throw new TabularParseError(
      'NO_FEATURES',
      HEADER_LINE,
      null,
      'there are no feature columns: every column is the sample id, outcome, batch or ignored',
    );
  }
  return {
    names,
    idCol,
    batchCol,
    featureCols: Int32Array.from(featureCols),
    featureNames: featureCols.map(j => names[j]!),
    outcomeCols,
  };
}

/** Row-major chunks of fixed size, transposed into one column-major array at the end. */
class MatrixBuilder {
  private readonly chunks: Float64Array[] = [];
  private readonly rowsPerChunk: number;
  private current: Float64Array;
  private rowInChunk = 0;
  rows = 0;

  constructor(private readonly p: number) {
    // ~1 Mi values (8 MB) per chunk: small enough that the unused tail is negligible, large
    // enough that 500 × 20,000 needs only ~10 chunks.
    this.rowsPerChunk = Math.max(1, Math.floor((1 << 20) / p));
    this.current = new Float64Array(this.rowsPerChunk * p);
  }

  /** The slot for the next row's values (row-major, length p). */
  nextRow(): Float64Array {
    if (this.rowInChunk === this.rowsPerChunk) {
      this.chunks.push(this.current);
      this.current = new Float64Array(this.rowsPerChunk * this.p);
      this.rowInChunk = 0;
    }
    const off = this.rowInChunk * this.p;
    this.rowInChunk++;
    this.rows++;
    return this.current.subarray(off, off + this.p);
  }

  finish(): Float64Array {
    const n = this.rows;
    const p = this.p;
    const out = new Float64Array(n * p);
    const all = [...this.chunks, this.current];
    let r0 = 0;
    for (let c = 0; c < all.length; c++) {
      const chunk = all[c]!;
      const rc = Math.min(this.rowsPerChunk, n - r0);
      // For each feature, gather its rc values of this chunk (stride p) into a contiguous run of
      // the output. rc·64 bytes of touched cache lines stay in L1 across neighbouring j, so the
      // strided reads are mostly cache hits; writes are sequential.
      for (let j = 0; j < p; j++) {
        const dst = j * n + r0;
        for (let i = 0, src = j; i < rc; i++, src += p) out[dst + i] = chunk[src]!;
      }
      all[c] = new Float64Array(0); // release the chunk as soon as it is copied
      r0 += rc;
    }
    this.chunks.length = 0;
    return out;
  }
}

function detectDelimiter(headerLine: string): Delimiter {
  let tabs = 0;
  let commas = 0;
  for (let i = 0; i < headerLine.length; i++) {
    const c = headerLine.charCodeAt(i);
    if (c === 9) tabs++;
    else if (c === 44) commas++;
  }
  // A TSV header may contain commas inside names ("IL-1,beta"); a CSV header rarely has tabs.
  return tabs > 0 && tabs >= commas ? '\t' : commas > 0 ? ',' : tabs > 0 ? '\t' : ',';
}

/** Text chunks → the first line (for delimiter detection) plus a replay of everything. */
async function readHead(
  it: AsyncIterator<string>,
  limits: TabularLimits,
): Promise<{ head: string; firstLine: string }> {
  let head = '';
  let scanned = 0;
  for (;;) {
    // Scan only the new text (a wide header may arrive in many chunks).
    for (let i = scanned; i < head.length; i++) {
      const c = head.charCodeAt(i);
      // A CR at the very end may be the first half of a CRLF: look at the next chunk first.
      if (c === 10 || (c === 13 && i + 1 < head.length)) {
        return { head, firstLine: head.slice(0, i) };
      }
    }
    scanned =
      head.length > 0 && head.charCodeAt(head.length - 1) === 13 ? head.length - 1 : head.length;
    if (head.length > limits.maxRecordChars) {
      throw new TabularParseError(
        'TOO_LARGE',
        HEADER_LINE,
        null,
        `the header line is longer than the limit of ${limits.maxRecordChars} characters`,
      );
    }
    const r = await it.next();
    if (r.done) {
      const cr = head.indexOf('\r');
      return { head, firstLine: cr === -1 ? head : head.slice(0, cr) };
    }
    head += r.value;
  }
}

function abortError(): Error {
  const err = new Error('reading the table was cancelled');
  err.name = 'AbortError';
  return err;
}

/**
 * Parses a CSV/TSV byte stream (gzip detected by magic bytes) into a Dataset plus a summary.
 * Throws TabularParseError (with line and column) for any problem with the file's content.
 */
export async function parseTabular(
  source: ByteSource,
  opts: TabularOptions = {},
): Promise<TabularResult> {
  const limits: TabularLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const outcomeSpec: OutcomeSpec = opts.outcome ?? { kind: 'none' };
  const missingPolicy = opts.missing ?? 'allow';
  const cells = makeCellParser(opts.missingTokens ?? DEFAULT_MISSING_TOKENS);
  const stats: TextStats = { rawBytes: 0, textBytes: 0, gzip: false, sha256: null };
  const signal = opts.signal;

  const textIt = decodeText(source, limits, stats)[Symbol.asyncIterator]();
  try {
    const { head, firstLine } = await readHead(textIt, limits);
    if (head.trim() === '') {
      throw new TabularParseError(
        'EMPTY_FILE',
        null,
        null,
        'the file is empty: expected a header line and one row per sample',
      );
    }
    const delimiter =
      !opts.delimiter || opts.delimiter === 'auto' ? detectDelimiter(firstLine) : opts.delimiter;

    const mode = lineModeOf(head, firstLine.length);
    const records = readRecords(head, textIt, {
      delimiter,
      mode,
      maxRecordChars: limits.maxRecordChars,
    });

    let plan: ColumnPlan | undefined;
    let matrix: MatrixBuilder | undefined;
    let outcome: ReturnType<typeof makeOutcomeCollector> | undefined;
    const sampleIds: string[] = [];
    const idLine = new Map<string, number>();
    const batch: string[] = [];
    let missingCount = 0;
    let headerLine = HEADER_LINE;

    try {
      for await (const item of records) {
        const record = item.fields;
        const startLine = item.line;
        const line = (): number => startLine;
        if (!plan) {
          headerLine = line();
          plan = planColumns(record, opts, outcomeSpec, limits);
          matrix = new MatrixBuilder(plan.featureCols.length);
          outcome = makeOutcomeCollector(outcomeSpec, plan.outcomeCols, cells);
          continue;
        }
        const names = plan.names;
        if (record.length === 1 && record[0]!.trim() === '') continue; // a whitespace-only line
        if (record.length !== names.length) {
          throw new TabularParseError(
            'RAGGED_ROW',
            line(),
            Math.min(record.length, names.length) + 1,
            `the row has ${record.length} fields but the header has ${names.length}`,
          );
        }
        if (matrix!.rows + 1 > limits.maxRows) {
          throw new TabularParseError(
            'TOO_LARGE',
            line(),
            null,
            `more than the limit of ${limits.maxRows} rows (samples)`,
          );
        }
        if ((matrix!.rows + 1) * plan.featureCols.length > limits.maxCells) {
          throw new TabularParseError(
            'TOO_LARGE',
            line(),
            null,
            `the matrix exceeds the limit of ${limits.maxCells} values (rows × feature columns)`,
          );
        }
        if (signal?.aborted && (matrix!.rows & 63) === 0) throw abortError();

        const id = record[plan.idCol]!.trim();
        if (id === '') {
          throw new TabularParseError(
            'BAD_SAMPLE_ID',
            line(),
            plan.idCol + 1,
            'the sample id is empty',
            names[plan.idCol],
          );
        }
        const seenAt = idLine.get(id);
        if (seenAt !== undefined) {
          throw new TabularParseError(
            'DUPLICATE_SAMPLE_ID',
            line(),
            plan.idCol + 1,
            `sample id ${quoteCell(id)} already appears on line ${seenAt}; sample ids must be unique`,
            names[plan.idCol],
          );
        }
        idLine.set(id, line());
        sampleIds.push(id);

        const oc = outcome!.columns;
        if (oc.length > 0) {
          const refs: CellRef[] = oc.map(j => ({ line, column: j + 1, name: names[j]! }));
          outcome!.add(
            oc.map(j => record[j]!),
            refs,
          );
        }
        if (plan.batchCol >= 0) {
          const b = record[plan.batchCol]!.trim();
          if (b === '') {
            throw new TabularParseError(
              'BAD_OUTCOME',
              line(),
              plan.batchCol + 1,
              'the batch label is empty',
              names[plan.batchCol],
            );
          }
          batch.push(b);
        }

        const row = matrix!.nextRow();
        const fc = plan.featureCols;
        for (let k = 0; k < fc.length; k++) {
          const j = fc[k]!;
          const kind = cells.parse(record[j]!);
          if (kind === CellKind.Number) {
            row[k] = cells.value;
            continue;
          }
          if (kind === CellKind.Missing) {
            if (missingPolicy === 'error') {
              throw new TabularParseError(
                'MISSING_VALUE',
                line(),
                j + 1,
                `missing value ${quoteCell(record[j]!)} (missing values are not allowed for this upload)`,
                names[j],
              );
            }
            row[k] = NaN;
            missingCount++;
            continue;
          }
          throw new TabularParseError(
            kind === CellKind.Infinite ? 'INFINITE' : 'NON_NUMERIC',
            line(),
            j + 1,
            kind === CellKind.Infinite
              ? `${quoteCell(record[j]!)} is infinite; feature values must be finite numbers`
              : `${quoteCell(record[j]!)} is not a number (use a plain decimal like 1.5 or 2e-3; NA or an empty cell for missing)`,
            names[j],
          );
        }
      }
    } finally {
      await records.return(undefined);
    }

    if (!plan || matrix!.rows === 0) {
      throw new TabularParseError(
        'NO_SAMPLES',
        headerLine + 1,
        null,
        'there are no data rows after the header',
      );
    }
    const { outcome: o, summary: outcomeSummary } = outcome!.finish(headerLine);
    if (stats.sha256 === null) throw new Error('internal: the input was not read to its end');
    const data = matrix!.finish();
    const dataset = makeDataset({
      data,
      nSamples: sampleIds.length,
      featureNames: plan.featureNames,
      sampleIds,
      outcome: o,
      batch: plan.batchCol >= 0 ? batch : undefined,
    });
    return {
      dataset,
      summary: {
        nSamples: dataset.nSamples,
        nFeatures: dataset.nFeatures,
        missingCount,
        outcome: outcomeSummary,
        sha256: stats.sha256,
        sizeBytes: stats.rawBytes,
        textBytes: stats.textBytes,
        gzip: stats.gzip,
        delimiter,
        sampleIdColumn: plan.names[plan.idCol]!,
        batchColumn: plan.batchCol >= 0 ? plan.names[plan.batchCol]! : null,
        ignoredColumns: (opts.ignoreColumns ?? []).map(c => c.trim()),
      },
    };
  } finally {
    await textIt.return?.(undefined);
  }
}

/** Reads a CSV/TSV(.gz) file from disk. The CLI calls exactly `readTabularFile(path, { sampleIdColumn?, outcome })`. */
export async function readTabularFile(
  path: string,
  opts: TabularOptions = {},
): Promise<TabularResult> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    return await parseTabular(stream, opts);
  } finally {
    stream.destroy();
  }
}
