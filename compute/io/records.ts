/**
 * Text → records (arrays of fields), each with the line it ends on.
 *
 * csv-parse is the CSV implementation: quoting, escaped quotes, quoted delimiters and line breaks,
 * its syntax errors. It walks the input one character at a time, though, which on wide omics
 * matrices (20,000 numeric fields per line) measured several times slower than everything else in
 * the upload put together. Omics exports are almost always quote-free, and a line without a `"`
 * means exactly the same to csv-parse as `line.split(delimiter)`. So lines are split natively
 * until the first line containing a quote; from that line on, the rest of the input goes through
 * csv-parse. Both paths are tested to give identical records.
 */
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { TabularParseError } from './errors';

export type LineMode = 'lf' | 'crlf' | 'cr';

export interface RawRecord {
  fields: string[];
  /** 1-based line the record starts on (a quoted field may span lines). */
  line: number;
}

export interface RecordOptions {
  delimiter: string;
  mode: LineMode;
  maxRecordChars: number;
}

/** The line mode from the first line ending; CRLF files also accept bare LF lines. */
export function lineModeOf(head: string, firstLineLength: number): LineMode {
  if (head.charCodeAt(firstLineLength) === 13) {
    return head.charCodeAt(firstLineLength + 1) === 10 ? 'crlf' : 'cr';
  }
  return 'lf';
}

/** Line breaks inside the fields of a record (quoted multi-line fields), to find where it started. */
function breaksInside(fields: string[], mode: LineMode): number {
  const brk = mode === 'cr' ? '\r' : '\n';
  let k = 0;
  for (const f of fields) {
    for (let i = f.indexOf(brk); i !== -1; i = f.indexOf(brk, i + 1)) k++;
  }
  return k;
}

interface CsvErrorLike {
  code?: string;
  message: string;
  lines?: number;
  column?: number | string | null;
}

function fromCsvError(
  e: CsvErrorLike,
  lineOffset: number,
  maxRecordChars: number,
): TabularParseError {
  const line = typeof e.lines === 'number' ? e.lines + lineOffset : null;
  const column = typeof e.column === 'number' ? e.column + 1 : null;
  switch (e.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return tooLong(line, maxRecordChars);
    case 'CSV_QUOTE_NOT_CLOSED':
      return new TabularParseError(
        'CSV_SYNTAX',
        line,
        null,
        'the file ends inside a quoted field: a double quote (") opened on or before this line is never closed',
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new TabularParseError(
        'CSV_SYNTAX',
        line,
        column,
        'unexpected characters after a closing double quote; quotes inside a quoted field must be doubled ("")',
      );
    default:
      return new TabularParseError('CSV_SYNTAX', line, column, e.message);
  }
}

function tooLong(line: number | null, max: number): TabularParseError {
  return new TabularParseError(
    'TOO_LARGE',
    line,
    null,
    `a line is longer than the limit of ${max} characters (is the delimiter right, and does the file have line breaks?)`,
  );
}

async function* replay(first: string, it: AsyncIterator<string>): AsyncGenerator<string> {
  if (first) yield first;
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
}

/** csv-parse over `first` and then the rest of `it`; line numbers continue after `lineOffset`. */
async function* csvRecords(
  first: string,
  it: AsyncIterator<string>,
  opts: RecordOptions,
  lineOffset: number,
): AsyncGenerator<RawRecord> {
  const parser = parse({
    delimiter: opts.delimiter,
    // Explicit record delimiter: csv-parse's auto-discovery was ~1.8× slower on wide rows.
    record_delimiter: opts.mode === 'cr' ? ['\r'] : opts.mode === 'crlf' ? ['\r\n', '\n'] : ['\n'],
    info: true,
    bom: true,
    // Ragged rows are checked by the caller so the error can name the line and the column.
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: opts.maxRecordChars,
  });
  const input = Readable.from(replay(first, it), { objectMode: false });
  input.on('error', e => parser.destroy(e));
  input.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const line = item.info.lines + lineOffset - breaksInside(item.record, opts.mode);
      yield { fields: item.record, line };
    }
  } catch (e) {
    const code = (e as CsvErrorLike).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw fromCsvError(e as CsvErrorLike, lineOffset, opts.maxRecordChars);
    }
    throw e;
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/**
 * Records from `head` (already read) followed by the rest of `it`. Empty lines are skipped, like
 * csv-parse's `skip_empty_lines`.
 */
export async function* readRecords(
  head: string,
  it: AsyncIterator<string>,
  opts: RecordOptions,
): AsyncGenerator<RawRecord> {
  const sep = opts.mode === 'cr' ? '\r' : '\n';
  const crlf = opts.mode === 'crlf';
  const { delimiter } = opts;
  let buf = head;
  let searchFrom = 0;
  let line = 0; // lines fully consumed
  for (;;) {
    let start = 0;
    for (let nl = buf.indexOf(sep, searchFrom); nl !== -1; nl = buf.indexOf(sep, start)) {
      let text = buf.slice(start, nl);
      if (text.includes('"')) {
        yield* csvRecords(buf.slice(start), it, opts, line);
        return;
      }
      line++;
      start = nl + 1;
      if (crlf && text.endsWith('\r')) text = text.slice(0, -1);
      if (text.length > opts.maxRecordChars) throw tooLong(line, opts.maxRecordChars);
      if (text.length > 0) yield { fields: text.split(delimiter), line };
    }
    buf = buf.slice(start);
    // Gather chunks until one holds a line break. Chunks without one are kept in a list and
    // joined once: appending to `buf` and searching it per chunk would copy the growing line
    // every time, quadratic in a long line (a small gzip can expand to one huge line).
    const pending: string[] = [buf];
    let pendingChars = buf.length;
    let next: IteratorResult<string>;
    for (;;) {
      if (pendingChars > opts.maxRecordChars) throw tooLong(line + 1, opts.maxRecordChars);
      next = await it.next();
      if (next.done || next.value.includes(sep)) break;
      pending.push(next.value);
      pendingChars += next.value.length;
    }
    buf = pending.length === 1 ? pending[0]! : pending.join('');
    if (next.done) break;
    searchFrom = buf.length;
    buf += next.value;
  }
  // The last line, without a line break at the end of the file.
  if (buf.includes('"')) {
    yield* csvRecords(buf, it, opts, line);
    return;
  }
  const text = crlf && buf.endsWith('\r') ? buf.slice(0, -1) : buf;
  if (text.length > 0) yield { fields: text.split(delimiter), line: line + 1 };
}
