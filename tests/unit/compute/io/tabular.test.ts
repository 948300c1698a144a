import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { column } from '../../../../compute/core/dataset';
import {
  type TabularOptions,
  TabularParseError,
  parseTabular,
  readTabularFile,
} from '../../../../compute/io/tabular';

const CSV = [
  'id,y,g1,g2,g3',
  's1,case,1.5,2,NA',
  's2,ctrl,-3e-2,,4',
  's3,case,0,NaN,+5.25',
  's4,ctrl,7,8,9',
].join('\n');

/** Feeds the bytes in pieces of `size` bytes, so every boundary case is exercised. */
async function* pieces(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function parseError(
  input: string | Buffer,
  opts: TabularOptions = {},
): Promise<TabularParseError> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  try {
    await parseTabular(bytes, opts);
  } catch (e) {
    if (e instanceof TabularParseError) return e;
    throw e;
  }
  throw new Error('expected a TabularParseError');
}

const binary: TabularOptions = {
  outcome: { kind: 'binary', column: 'y', positiveClass: 'case' },
};

describe('parseTabular: reading', () => {
  it('reads a CSV into a column-major matrix with ids, outcome, missing values and stats', async () => {
    const bytes = Buffer.from(CSV);
    const { dataset: ds, summary } = await parseTabular(bytes, binary);
    expect(ds.nSamples).toBe(4);
    expect(ds.featureNames).toEqual(['g1', 'g2', 'g3']);
    expect(ds.sampleIds).toEqual(['s1', 's2', 's3', 's4']);
    expect(Array.from(column(ds, 0))).toEqual([1.5, -0.03, 0, 7]);
    expect(Array.from(column(ds, 1))).toEqual([2, NaN, NaN, 8]);
    expect(Array.from(column(ds, 2))).toEqual([NaN, 4, 5.25, 9]);
    expect(ds.outcome).toEqual({
      kind: 'binary',
      labels: Int32Array.from([1, 0, 1, 0]),
      classes: ['ctrl', 'case'],
    });
    expect(summary).toMatchObject({
      nSamples: 4,
      nFeatures: 3,
      missingCount: 3,
      sizeBytes: bytes.length,
      textBytes: bytes.length,
      gzip: false,
      delimiter: ',',
      sampleIdColumn: 'id',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      outcome: {
        kind: 'binary',
        column: 'y',
        positiveClass: 'case',
        classes: ['ctrl', 'case'],
        classCounts: [
          { label: 'ctrl', count: 2 },
          { label: 'case', count: 2 },
        ],
      },
    });
  });

  it('gives the same result however the stream is chunked (1-byte pieces, CRLF, multi-byte UTF-8)', async () => {
    const text = 'id,y,gène\r\nsé1,case,1\r\nsé2,ctrl,2\r\n';
    const whole = await parseTabular(Buffer.from(text), binary);
    const split = await parseTabular(pieces(Buffer.from(text), 1), binary);
    expect(split.dataset.sampleIds).toEqual(['sé1', 'sé2']);
    expect(split.dataset.featureNames).toEqual(['gène']);
    expect(Array.from(split.dataset.data)).toEqual(Array.from(whole.dataset.data));
    expect(split.summary.sha256).toBe(whole.summary.sha256);
  });

  it('auto-detects TSV from the header and accepts an explicit delimiter', async () => {
    const tsv = 'id\ty\tIL-1,beta\tg2\ns1\tcase\t1\t2\ns2\tctrl\t3\t4\n';
    const { dataset, summary } = await parseTabular(Buffer.from(tsv), binary);
    expect(summary.delimiter).toBe('\t');
    expect(dataset.featureNames).toEqual(['IL-1,beta', 'g2']);
    const forced = await parseError(tsv, { ...binary, delimiter: ',' });
    expect(forced.code).toBe('MISSING_COLUMN');
  });

  it('detects gzip by magic bytes; the hash and size are of the compressed bytes', async () => {
    const gz = gzipSync(Buffer.from(CSV));
    const plain = await parseTabular(Buffer.from(CSV), binary);
    const { dataset, summary } = await parseTabular(pieces(gz, 7), binary);
    expect(summary.gzip).toBe(true);
    expect(summary.sizeBytes).toBe(gz.length);
    expect(summary.textBytes).toBe(Buffer.byteLength(CSV));
    expect(summary.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    expect(Array.from(dataset.data)).toEqual(Array.from(plain.dataset.data));
  });

  it('strips a UTF-8 BOM so the first column name is clean', async () => {
    const { dataset, summary } = await parseTabular(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV)]),
      { ...binary, sampleIdColumn: 'id' },
    );
    expect(summary.sampleIdColumn).toBe('id');
    expect(dataset.nSamples).toBe(4);
  });

  it('reads CR-only (old Mac) line endings', async () => {
    const { dataset } = await parseTabular(Buffer.from(CSV.replace(/\n/g, '\r')), binary);
    expect(dataset.sampleIds).toEqual(['s1', 's2', 's3', 's4']);
    const err = await parseError('id,g1\rs1,1\rs2,x\r');
    expect([err.line, err.column]).toEqual([3, 2]);
  });

  it("accepts R write.csv's unnamed first column as the sample ids, quoted fields and blank lines", async () => {
    const text = '"","g1","g2"\n"a",1,2\n\n"b","3",4\n';
    const { dataset, summary } = await parseTabular(Buffer.from(text));
    expect(summary.sampleIdColumn).toBe('');
    expect(dataset.sampleIds).toEqual(['a', 'b']);
    expect(Array.from(dataset.data)).toEqual([1, 3, 2, 4]);
    expect(dataset.outcome).toEqual({ kind: 'none' });
  });

  it('reads multiclass, continuous and survival outcomes with summaries', async () => {
    const text = 'id,cls,val,t,e,g\na,z,1,5,1,0\nb,x,2,3,0,1\nc,y,4,10,TRUE,2\nd,x,5,1,false,3\n';
    const multi = await parseTabular(Buffer.from(text), {
      outcome: { kind: 'multiclass', column: 'cls' },
      ignoreColumns: ['val', 't', 'e'],
    });
    expect(multi.dataset.outcome).toEqual({
      kind: 'multiclass',
      labels: Int32Array.from([2, 0, 1, 0]),
      classes: ['x', 'y', 'z'],
    });
    expect(multi.summary.outcome).toMatchObject({
      classCounts: [
        { label: 'x', count: 2 },
        { label: 'y', count: 1 },
        { label: 'z', count: 1 },
      ],
    });
    expect(multi.dataset.featureNames).toEqual(['g']);

    const cont = await parseTabular(Buffer.from(text), {
      outcome: { kind: 'continuous', column: 'val' },
      ignoreColumns: ['cls', 't', 'e'],
    });
    expect(cont.summary.outcome).toMatchObject({ kind: 'continuous', mean: 3, min: 1, max: 5 });
    // sample sd of 1, 2, 4, 5 = sqrt(10 / 3)
    expect((cont.summary.outcome as { sd: number }).sd).toBeCloseTo(Math.sqrt(10 / 3), 12);

    const surv = await parseTabular(Buffer.from(text), {
      outcome: { kind: 'survival', timeColumn: 't', eventColumn: 'e' },
      batchColumn: 'cls',
      ignoreColumns: ['val'],
    });
    expect(surv.dataset.outcome).toEqual({
      kind: 'survival',
      time: Float64Array.from([5, 3, 10, 1]),
      event: Uint8Array.from([1, 0, 1, 0]),
    });
    expect(surv.dataset.batch).toEqual(['z', 'x', 'y', 'x']);
    expect(surv.summary.outcome).toMatchObject({
      events: 2,
      censored: 2,
      minTime: 1,
      maxTime: 10,
      medianTime: 4,
    });
  });

  it('readTabularFile reads a file from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabular-'));
    try {
      const file = join(dir, 'x.csv.gz');
      writeFileSync(file, gzipSync(Buffer.from(CSV)));
      const { dataset, summary } = await readTabularFile(file, {
        sampleIdColumn: 'id',
        outcome: { kind: 'binary', column: 'y', positiveClass: 'ctrl' },
      });
      expect(dataset.nFeatures).toBe(3);
      expect(summary.outcome).toMatchObject({ classes: ['case', 'ctrl'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops when the signal is aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(parseTabular(Buffer.from(CSV), { signal: ac.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('parseTabular: errors name line and column', () => {
  it.each([
    ['abc', 'NON_NUMERIC'],
    ['0x10', 'NON_NUMERIC'],
    ['12abc', 'NON_NUMERIC'],
    ['1,5', 'RAGGED_ROW'],
    ['Inf', 'INFINITE'],
    ['-infinity', 'INFINITE'],
    ['1e400', 'INFINITE'],
  ])('rejects the cell %s', async (cell, code) => {
    const err = await parseError(`id,g1,g2\ns1,1,2\ns2,3,${cell}\n`);
    expect(err.code).toBe(code);
    expect(err.line).toBe(3);
    expect(err.column).toBe(code === 'RAGGED_ROW' ? 4 : 3);
    if (code !== 'RAGGED_ROW') {
      expect(err.columnName).toBe('g2');
      expect(err.message).toContain('line 3, column 3 ("g2")');
    }
  });

  it('rejects duplicate column names, listing them', async () => {
    const err = await parseError('gene,s1,s1,s3,s3\na,1,2,3,4\n');
    expect([err.code, err.line, err.column]).toEqual(['DUPLICATE_COLUMN', 1, 3]);
    expect(err.message).toContain('"s1", "s3"');
  });

  it('rejects empty column names (other than an unnamed first id column)', async () => {
    const err = await parseError('gene,s1,,s3\na,1,2,3\n');
    expect([err.code, err.line, err.column]).toEqual(['EMPTY_COLUMN_NAME', 1, 3]);
    const named = await parseError(',g1\na,1\n', { sampleIdColumn: 'g1' });
    expect([named.code, named.column]).toEqual(['EMPTY_COLUMN_NAME', 1]);
  });

  it('rejects short and long (ragged) rows', async () => {
    const short = await parseError('id,g1,g2\ns1,1,2\ns2,3\n');
    expect([short.code, short.line, short.column]).toEqual(['RAGGED_ROW', 3, 3]);
    expect(short.message).toContain('2 fields but the header has 3');
    const long = await parseError('id,g1,g2\ns1,1,2,9\n');
    expect([long.code, long.line, long.column]).toEqual(['RAGGED_ROW', 2, 4]);
  });

  it('names the starting line of a record with a quoted multi-line field', async () => {
    const err = await parseError('id,g1\n"s\n1",x\n');
    expect([err.code, err.line, err.column]).toEqual(['NON_NUMERIC', 2, 2]);
  });

  it('rejects missing outcome, id, batch and ignored columns', async () => {
    const o = await parseError(CSV, { outcome: { kind: 'continuous', column: 'age' } });
    expect([o.code, o.line]).toEqual(['MISSING_COLUMN', 1]);
    expect(o.message).toContain('outcome column "age" is not in the header');
    const id = await parseError(CSV, { sampleIdColumn: 'sample' });
    expect(id.message).toContain('sample id column "sample"');
    const b = await parseError(CSV, { batchColumn: 'batch' });
    expect(b.code).toBe('MISSING_COLUMN');
    const ig = await parseError(CSV, { ignoreColumns: ['nope'] });
    expect(ig.message).toContain('ignored column "nope"');
  });

  it('rejects a column used in two roles', async () => {
    const err = await parseError(CSV, {
      ...binary,
      ignoreColumns: ['y'],
    });
    expect([err.code, err.line, err.column]).toEqual(['COLUMN_ROLE_CONFLICT', 1, 2]);
  });

  it('rejects a binary outcome without exactly two classes, or without the positive class', async () => {
    const three = await parseError('id,y,g\na,p,1\nb,q,2\nc,r,3\n', {
      outcome: { kind: 'binary', column: 'y', positiveClass: 'p' },
    });
    expect([three.code, three.line, three.column]).toEqual(['BAD_OUTCOME', 4, 2]);
    expect(three.message).toContain('exactly two classes');
    const one = await parseError('id,y,g\na,p,1\nb,p,2\n', {
      outcome: { kind: 'binary', column: 'y', positiveClass: 'p' },
    });
    expect([one.code, one.line, one.column]).toEqual(['BAD_OUTCOME', 1, 2]);
    expect(one.message).toContain('found 1: "p"');
    const pos = await parseError(CSV, {
      outcome: { kind: 'binary', column: 'y', positiveClass: 'Case' },
    });
    expect(pos.message).toContain('positive class "Case" does not occur');
  });

  it('rejects missing or malformed outcome values', async () => {
    const missing = await parseError('id,y,g\na,p,1\nb,,2\n', binary);
    expect([missing.code, missing.line, missing.column]).toEqual(['BAD_OUTCOME', 3, 2]);
    const ev = await parseError('id,t,e,g\na,1,2,1\n', {
      outcome: { kind: 'survival', timeColumn: 't', eventColumn: 'e' },
    });
    expect([ev.line, ev.column]).toEqual([2, 3]);
    expect(ev.message).toContain('must be 1 (event) or 0 (censored)');
    const neg = await parseError('id,t,e,g\na,-1,1,1\n', {
      outcome: { kind: 'survival', timeColumn: 't', eventColumn: 'e' },
    });
    expect(neg.message).toContain('negative');
    const inf = await parseError('id,v,g\na,inf,1\n', {
      outcome: { kind: 'continuous', column: 'v' },
    });
    expect([inf.code, inf.column]).toEqual(['INFINITE', 2]);
  });

  it('rejects missing values under the error policy', async () => {
    const err = await parseError(CSV, { ...binary, missing: 'error' });
    expect([err.code, err.line, err.column]).toEqual(['MISSING_VALUE', 2, 5]);
  });

  it('rejects empty and duplicate sample ids', async () => {
    const dup = await parseError('id,g\na,1\nb,2\na,3\n');
    expect([dup.code, dup.line, dup.column]).toEqual(['DUPLICATE_SAMPLE_ID', 4, 1]);
    expect(dup.message).toContain('already appears on line 2');
    const empty = await parseError('id,g\n,1\n');
    expect([empty.code, empty.line]).toEqual(['BAD_SAMPLE_ID', 2]);
  });

  it('rejects empty files, header-only files and files without feature columns', async () => {
    expect((await parseError('')).code).toBe('EMPTY_FILE');
    expect((await parseError('id,g\n')).code).toBe('NO_SAMPLES');
    expect((await parseError('id,y\na,p\nb,q\n', binary)).code).toBe('NO_FEATURES');
  });

  it('rejects binary and non-UTF-8 input: NUL bytes, UTF-16, invalid UTF-8, ZIP', async () => {
    const nul = await parseError(Buffer.from('id,g\na,1\nb,\u00002\n'));
    expect([nul.code, nul.line]).toEqual(['NOT_TEXT', 3]);
    const utf16 = await parseError(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,g\n', 'utf16le')]),
    );
    expect(utf16.message).toContain('UTF-16');
    const latin1 = await parseError(
      Buffer.concat([Buffer.from('id,g\r\na,1\r\n'), Buffer.from([0xe9]), Buffer.from(',2\n')]),
    );
    expect([latin1.code, latin1.line]).toEqual(['NOT_TEXT', 3]);
    expect(latin1.message).toContain('invalid UTF-8');
    const zip = await parseError(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]));
    expect(zip.message).toContain('ZIP archive');
    // Line counting across chunk boundaries: CRLF and CR split between 1-byte pieces.
    await expect(
      parseTabular(pieces(Buffer.from('id,g\r\na,1\r\nb,2\r\nc,\u00003\r\n'), 1)),
    ).rejects.toMatchObject({ code: 'NOT_TEXT', line: 4 });
    await expect(
      parseTabular(pieces(Buffer.from('id,g\ra,1\rb,\u00002\r'), 1)),
    ).rejects.toMatchObject({ code: 'NOT_TEXT', line: 3 });
    const png = await parseError(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.code).toBe('NOT_TEXT');
  });

  it('rejects a corrupt or truncated gzip stream', async () => {
    const gz = gzipSync(Buffer.from(CSV + '\n'));
    // Trailer cut off: all rows arrive, then zlib reports the truncation.
    const truncated = await parseError(gz.subarray(0, gz.length - 4), binary);
    expect([truncated.code, truncated.line]).toEqual(['BAD_GZIP', null]);
    expect(truncated.message).toContain('gzip stream is corrupt or truncated');
    const corrupt = Buffer.from(gz);
    corrupt[2] = 7; // compression method other than deflate
    expect((await parseError(corrupt, binary)).code).toBe('BAD_GZIP');
  });

  it('reports CSV syntax errors with their line', async () => {
    const open = await parseError('id,g\na,1\nb,"2\n');
    expect([open.code, open.line]).toEqual(['CSV_SYNTAX', 3]);
    expect(open.message).toContain('never closed');
    const closing = await parseError('id,g\na,"1"x\n');
    expect([closing.code, closing.line]).toEqual(['CSV_SYNTAX', 2]);
  });

  it('enforces the size limits', async () => {
    const longLine = await parseError(`id,g\na,${'1'.repeat(5000)}\n`, {
      limits: { maxRecordChars: 1000 },
    });
    expect([longLine.code, longLine.line]).toEqual(['TOO_LARGE', 2]);
    const noBreak = await parseError('x'.repeat(5000), { limits: { maxRecordChars: 1000 } });
    expect([noBreak.code, noBreak.line]).toEqual(['TOO_LARGE', 1]);
    const cols = await parseError('id,a,b,c,d\n', { limits: { maxColumns: 4 } });
    expect([cols.code, cols.line, cols.column]).toEqual(['TOO_LARGE', 1, 5]);
    const rows = await parseError('id,g\na,1\nb,2\nc,3\n', { limits: { maxRows: 2 } });
    expect([rows.code, rows.line]).toEqual(['TOO_LARGE', 4]);
    const cells = await parseError('id,g,h\na,1,1\nb,2,2\n', { limits: { maxCells: 3 } });
    expect([cells.code, cells.line]).toEqual(['TOO_LARGE', 3]);
    // A small gzip bomb: 1 MB of newlines compresses to ~1 KB.
    const bomb = gzipSync(Buffer.concat([Buffer.from('id,g\n'), Buffer.alloc(1 << 20, 0x0a)]));
    const err = await parseError(bomb, { limits: { maxTextBytes: 100_000 } });
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toContain('decompressed text is larger than the limit of 100000 bytes');
  });
});
