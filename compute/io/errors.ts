/**
 * The one error type the tabular reader throws for bad input. It always says where: `line` is the
 * 1-based physical line of the (decompressed) text, `column` the 1-based field position, and
 * `columnName` the header name when known. The API turns it into BAD_USER_INPUT with these fields
 * in `extensions`, the CLI prints `message` as is.
 */
export type TabularErrorCode =
  | 'NOT_TEXT'
  | 'BAD_GZIP'
  | 'EMPTY_FILE'
  | 'BAD_HEADER'
  | 'DUPLICATE_COLUMN'
  | 'EMPTY_COLUMN_NAME'
  | 'MISSING_COLUMN'
  | 'COLUMN_ROLE_CONFLICT'
  | 'NO_FEATURES'
  | 'NO_SAMPLES'
  | 'RAGGED_ROW'
  | 'CSV_SYNTAX'
  | 'NON_NUMERIC'
  | 'INFINITE'
  | 'MISSING_VALUE'
  | 'BAD_SAMPLE_ID'
  | 'DUPLICATE_SAMPLE_ID'
  | 'BAD_OUTCOME'
  | 'TOO_LARGE';

export class TabularParseError extends Error {
  override readonly name = 'TabularParseError';

  constructor(
    readonly code: TabularErrorCode,
    /** 1-based line, or null when the problem has no single line (e.g. a corrupt gzip stream). */
    readonly line: number | null,
    /** 1-based column (field position), or null when the problem is not about one column. */
    readonly column: number | null,
    /** The problem itself, without the position prefix. */
    readonly detail: string,
    readonly columnName?: string,
  ) {
    super(TabularParseError.format(line, column, detail, columnName));
  }

  private static format(
    line: number | null,
    column: number | null,
    detail: string,
    columnName?: string,
  ): string {
    const where: string[] = [];
    if (line !== null) where.push(`line ${line}`);
    if (column !== null) {
      where.push(columnName ? `column ${column} ("${columnName}")` : `column ${column}`);
    }
    return where.length ? `${where.join(', ')}: ${detail}` : detail;
  }
}

/** Short, safe rendering of a cell for error messages (cells come from untrusted files). */
export function quoteCell(s: string, max = 40): string {
  const clipped = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(clipped);
}
