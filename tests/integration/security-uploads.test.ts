/**
 * Hostile uploads through the real multipart `uploadDataset` path (graphql-upload → storage →
 * parse worker thread). Every bad input is generated here, in code: each must come back as a
 * deterministic BAD_USER_INPUT (or HTTP 413) whose extensions name the reason and, where there is
 * one, the line and column, while the API process's RSS stays bounded (gzip bombs included).
 *
 * tests/integration/datasets.test.ts already checks the error contract on a handful of plain
 * cases; this file is the abuse corpus (issue 9). Parser limits derive from MAX_UPLOAD_BYTES
 * (`parserLimits` in the datasets service): decompressed text ≤ 16× the upload limit.
 */
import 'reflect-metadata';
import { gzipSync } from 'node:zlib';
import { parseTabular } from '../../compute/io/tabular';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';

const MAX_UPLOAD = 1024 * 1024;
/** RSS growth allowed across the corpus (measured ~105 MiB peak, for the 4 MB single line). */
const RSS_BUDGET = 256 * 1024 * 1024;

const UPLOAD = `mutation($input: DatasetUploadInput!, $file: Upload!) {
  uploadDataset(input: $input, file: $file) { id status }
}`;

interface Case {
  what: string;
  body: () => Buffer;
  input?: Record<string, unknown>;
  filename?: string;
  /** Expected HTTP status when not 200. */
  status?: number;
  reason: string;
  line?: number | null;
  column?: number | null;
  text: RegExp;
}

const b = (s: string) => Buffer.from(s, 'utf8');
const hdr = 'id,g1,g2\n';
const ok = 's1,1,2\ns2,3,4\n';

const cases: Case[] = [
  // --- size and shape
  {
    what: 'one huge line without a newline (900 KB header, no rows)',
    body: () => b('x,'.repeat(450_000)),
    reason: 'EMPTY_COLUMN_NAME',
    line: 1,
    text: /empty/i,
  },
  {
    what: 'a gzip bomb: 4 MB single line from ~4 KB',
    body: () => gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x61), { level: 9 }),
    filename: 'bomb.csv.gz',
    reason: 'NO_FEATURES',
    line: 1,
    text: /no feature columns/,
  },
  {
    what: 'a gzip bomb of NUL bytes (50 MB from ~50 KB)',
    body: () => gzipSync(Buffer.alloc(50 * 1024 * 1024, 0), { level: 9 }),
    filename: 'zeros.csv.gz',
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /NUL|binary/,
  },
  {
    what: 'a gzip bomb of blank lines: 20 MB of text, over 16× the upload limit',
    body: () => gzipSync(b('id,g1\ns1,1\n' + '\n'.repeat(20 * 1024 * 1024)), { level: 9 }),
    filename: 'rows.csv.gz',
    reason: 'TOO_LARGE',
    text: /decompressed text is larger than the limit of 16777216 bytes/,
  },
  {
    what: 'a million and one columns (gzip)',
    body: () => gzipSync(b(','.repeat(1_000_000) + '\n'), { level: 9 }),
    reason: 'TOO_LARGE',
    line: 1,
    column: 1_000_001,
    text: /1000001 columns, more than the limit of 1000000/,
  },
  {
    what: 'a file over the upload limit',
    body: () => Buffer.alloc(MAX_UPLOAD + 1, 0x31),
    status: 413,
    reason: 'UPLOAD_TOO_LARGE',
    text: /limit/,
  },
  // --- headers
  {
    what: 'duplicate headers',
    body: () => b(`id,g1,g1\n${ok}`),
    reason: 'DUPLICATE_COLUMN',
    line: 1,
    column: 3,
    text: /g1/,
  },
  {
    what: 'an empty header in the middle',
    body: () => b(`id,,g2\n${ok}`),
    reason: 'EMPTY_COLUMN_NAME',
    line: 1,
    column: 2,
    text: /empty/i,
  },
  {
    what: 'a whitespace-only header',
    body: () => b(`id,g1,   \n${ok}`),
    reason: 'EMPTY_COLUMN_NAME',
    line: 1,
    column: 3,
    text: /empty/i,
  },
  {
    what: 'only an id column',
    body: () => b('id\ns1\ns2\n'),
    reason: 'NO_FEATURES',
    text: /feature/i,
  },
  {
    what: 'only a header',
    body: () => b(hdr),
    reason: 'NO_SAMPLES',
    text: /sample|row/i,
  },
  {
    what: 'an empty file',
    body: () => Buffer.alloc(0),
    reason: 'EMPTY_FILE',
    text: /empty/i,
  },
  {
    what: 'only blank lines',
    body: () => b('\n\n   \n\n'),
    reason: 'EMPTY_FILE',
    text: /empty/i,
  },
  {
    what: 'a BOM, then a ragged row (line numbers not shifted by the BOM)',
    body: () => b(`\uFEFF${hdr}s1,1,2\ns2,3\n`),
    reason: 'RAGGED_ROW',
    line: 3,
    column: 3,
    text: /2 fields but the header has 3/,
  },
  {
    what: 'only a BOM',
    body: () => b('\uFEFF'),
    reason: 'EMPTY_FILE',
    text: /empty/i,
  },
  // --- encodings
  {
    what: 'CR-only line endings with a ragged row',
    body: () => b('id,g1,g2\rs1,1,2\rs2,3\r'),
    reason: 'RAGGED_ROW',
    line: 3,
    text: /fields/,
  },
  {
    what: 'UTF-16LE with BOM',
    body: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(hdr + ok, 'utf16le')]),
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /UTF-16/,
  },
  {
    what: 'UTF-16BE with BOM',
    body: () =>
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(hdr + ok, 'utf16le').swap16()]),
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /UTF-16/,
  },
  {
    what: 'UTF-16LE without BOM',
    body: () => Buffer.from(hdr + ok, 'utf16le'),
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /NUL|UTF-16|binary/,
  },
  {
    what: 'a NUL byte on line 3',
    body: () => b(`${hdr}s1,1,2\ns2,3\u00004\n`),
    reason: 'NOT_TEXT',
    line: 3,
    column: null,
    text: /NUL/,
  },
  {
    what: 'an encoded UTF-16 surrogate (invalid UTF-8) on line 2',
    body: () => Buffer.concat([b(`${hdr}s1,1,`), Buffer.from([0xed, 0xa0, 0x80]), b('\n')]),
    reason: 'NOT_TEXT',
    line: 2,
    column: null,
    text: /invalid UTF-8/,
  },
  // --- binaries renamed .csv
  {
    what: 'an ELF binary',
    body: () =>
      Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)]),
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /./,
  },
  {
    what: 'a ZIP / xlsx renamed .csv',
    body: () => Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(40, 1)]),
    reason: 'NOT_TEXT',
    line: 1,
    column: null,
    text: /./,
  },
  {
    what: 'a PDF renamed .csv',
    body: () => Buffer.concat([b('%PDF-1.7\n'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3, 0x0a])]),
    reason: 'NOT_TEXT',
    column: null,
    text: /./,
  },
  {
    what: 'random bytes',
    body: () => {
      const r = Buffer.alloc(4096);
      let s = 12345;
      for (let i = 0; i < r.length; i++) r[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16;
      return r;
    },
    reason: 'NOT_TEXT',
    column: null,
    text: /./,
  },
  {
    what: 'a truncated gzip stream',
    body: () => {
      const rows = Array.from({ length: 2000 }, (_, i) => `s${i},${i},${i * 7}`);
      const gz = gzipSync(b(hdr + rows.join('\n')));
      return gz.subarray(0, gz.length >> 1);
    },
    reason: 'BAD_GZIP',
    text: /gzip/i,
  },
  {
    what: 'a gzip header followed by garbage',
    body: () =>
      Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(64, 0xff)]),
    reason: 'BAD_GZIP',
    text: /gzip/i,
  },
  // --- cell values
  {
    what: 'Inf',
    body: () => b(`${hdr}s1,1,2\ns2,Inf,4\n`),
    reason: 'INFINITE',
    line: 3,
    column: 2,
    text: /Inf/,
  },
  {
    what: '-Infinity',
    body: () => b(`${hdr}s1,1,-Infinity\ns2,3,4\n`),
    reason: 'INFINITE',
    line: 2,
    column: 3,
    text: /Infinity/,
  },
  {
    what: 'a number overflowing to infinity (1e999)',
    body: () => b(`${hdr}s1,1e999,2\ns2,3,4\n`),
    reason: 'INFINITE',
    line: 2,
    column: 2,
    text: /1e999/,
  },
  {
    what: 'a formula-injection cell',
    body: () => b(`${hdr}s1,"=cmd|' /C calc'!A0",2\ns2,3,4\n`),
    reason: 'NON_NUMERIC',
    line: 2,
    column: 2,
    text: /=cmd/,
  },
  {
    what: 'a quoted thousands separator',
    body: () => b(`${hdr}s1,"1,000",2\ns2,3,4\n`),
    reason: 'NON_NUMERIC',
    line: 2,
    column: 2,
    text: /1,000/,
  },
  {
    what: 'a 100 KB cell (message stays short)',
    body: () => b(`${hdr}s1,${'z'.repeat(100_000)},2\ns2,3,4\n`),
    reason: 'NON_NUMERIC',
    line: 2,
    column: 2,
    text: /^.{0,400}$/s,
  },
  {
    what: 'terminal escape sequences in a cell',
    body: () => b(`${hdr}s1,\u001b[31mred\u001b[0m,2\ns2,3,4\n`),
    reason: 'NON_NUMERIC',
    line: 2,
    column: 2,
    // eslint-disable-next-line no-control-regex
    text: /^[^\u001b]*$/,
  },
  // --- quoting and row shape
  {
    what: 'an unterminated quote',
    body: () => b(`${hdr}s1,"1,2\ns2,3,4\n`),
    reason: 'CSV_SYNTAX',
    text: /quote/i,
  },
  {
    what: 'a quote inside an unquoted field',
    body: () => b(`${hdr}s1,"1"x,2\ns2,3,4\n`),
    reason: 'CSV_SYNTAX',
    line: 2,
    text: /quote/i,
  },
  {
    what: 'a row with too many fields',
    body: () => b(`${hdr}s1,1,2\ns2,3,4,5\n`),
    reason: 'RAGGED_ROW',
    line: 3,
    column: 4,
    text: /4 fields but the header has 3/,
  },
  {
    what: 'a tab header with comma rows',
    body: () => b(`id\tg1\tg2\ns1,1,2\n`),
    reason: 'RAGGED_ROW',
    line: 2,
    text: /1 fields? but the header has 3/,
  },
  // --- sample ids and column roles
  {
    what: 'duplicate sample ids',
    body: () => b(`${hdr}s1,1,2\ns2,3,4\ns1,5,6\n`),
    reason: 'DUPLICATE_SAMPLE_ID',
    line: 4,
    column: 1,
    text: /s1/,
  },
  {
    what: 'an empty sample id',
    body: () => b(`${hdr}s1,1,2\n,3,4\n`),
    reason: 'BAD_SAMPLE_ID',
    line: 3,
    column: 1,
    text: /sample id/i,
  },
  {
    what: 'a sample-id column that does not exist',
    body: () => b(hdr + ok),
    input: { sampleIdColumn: 'nope' },
    reason: 'MISSING_COLUMN',
    line: 1,
    text: /nope/,
  },
  {
    what: 'the outcome column also used as the batch column',
    body: () => b(`id,y,g1\ns1,a,1\ns2,b,2\n`),
    input: { outcome: { kind: 'BINARY', column: 'y', positiveClass: 'a' }, batchColumn: 'y' },
    reason: 'COLUMN_ROLE_CONFLICT',
    line: 1,
    text: /y/,
  },
];

describe('hostile uploads', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } });
    token = (await registerUser(t)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  async function upload(c: Case) {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: UPLOAD,
        variables: { input: { name: c.what.slice(0, 100), ...c.input }, file: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([c.body()]), c.filename ?? 'data.csv');
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      body: form,
    });
    const body = (await res.json()) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    };
    return { status: res.status, ...body };
  }

  /** The error without the parts that differ per request (dataset id, request id). */
  const strip = (r: Awaited<ReturnType<typeof upload>>) => ({
    status: r.status,
    errors: r.errors?.map(e => ({
      message: e.message,
      ...e.extensions,
      datasetId: undefined,
      requestId: undefined,
    })),
  });
  const first = new Map<Case, ReturnType<typeof strip>>();
  /** Peak RSS above the baseline while each case ran. */
  const growth: Array<[string, number]> = [];

  it('has a corpus of at least 30 hostile files', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  // RSS sampled every 10 ms while the corpus runs (worker-thread parses count in process RSS).
  let baseline = 0;
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  beforeAll(() => {
    baseline = process.memoryUsage().rss;
    sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
  });
  afterAll(() => clearInterval(sampler));

  it.each(cases)('rejects $what', async c => {
    const before = peak;
    peak = process.memoryUsage().rss;
    const res = await upload(c);
    first.set(c, strip(res));
    growth.push([c.what, Math.max(peak, process.memoryUsage().rss) - baseline]);
    peak = Math.max(before, peak);
    expect(res.status).toBe(c.status ?? 200);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    const err = res.errors![0]!;
    expect(err.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err.extensions?.reason).toBe(c.reason);
    if (c.line !== undefined) expect(err.extensions?.line).toBe(c.line);
    if (c.column !== undefined) expect(err.extensions?.column).toBe(c.column);
    expect(err.message).toMatch(c.text);
    // Never a stack trace, a path on the server, or the raw exception class.
    expect(err.message).not.toMatch(/\bat .+\(.*:\d+:\d+\)|\/work\/|TabularParseError/);
    expect(err.message.length).toBeLessThan(500);
  });

  it('gives the same answer on a second upload (deterministic) for every case', async () => {
    expect(first.size).toBe(cases.length);
    for (const c of cases) expect([c.what, strip(await upload(c))]).toEqual([c.what, first.get(c)]);
  });

  it('keeps the process RSS bounded across the corpus', () => {
    const grown = peak - baseline;
    const top = [...growth].sort((x, y) => y[1] - x[1]).slice(0, 4);
    console.log(
      `hostile uploads: RSS baseline ${baseline >> 20} MiB, peak ${peak >> 20} MiB; largest: ` +
        top.map(([w, g]) => `${w} +${g >> 20} MiB`).join('; '),
    );
    clearInterval(sampler);
    expect(grown).toBeLessThan(RSS_BUDGET);
  });

  // Cutting a file at the size cap used to race the copy to storage: the pipeline settled on the
  // 413 first, then Readable.pipe re-emitted it on the hashing stream with no listener left, an
  // uncaught exception that failed this suite about once in 40 over-limit uploads. Sixty of
  // them, three at a time and of varied sizes, all get their 413 and the process stays up.
  it('survives over-limit uploads cut at different points, concurrently', async () => {
    const over = (size: number): Case => ({
      ...cases.find(c => c.status === 413)!,
      body: () => Buffer.alloc(size, 0x31),
    });
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const sizes = [MAX_UPLOAD + 1, MAX_UPLOAD + 1 + i * 4096, 3 * MAX_UPLOAD];
      for (const r of await Promise.all(sizes.map(s => upload(over(s))))) statuses.add(r.status);
    }
    expect([...statuses]).toEqual([413]);
  });

  // One long line used to cost O(n²) in the record reader (each chunk was appended to the line
  // and the whole line searched again), so a small gzip of one huge line held a parse slot for
  // minutes. Now chunks without a line break are only collected, and the record limit fires as
  // soon as the gathered length passes it: a line 8× over the limit ends at line 1 with TOO_LARGE.
  it('stops one long line at the record limit instead of reading it whole', async () => {
    const gz = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61));
    await expect(
      parseTabular(gz, { limits: { maxRecordChars: 1024 * 1024 } }),
    ).rejects.toMatchObject({ code: 'TOO_LARGE', line: 1 });
    // Without a tighter limit the same line is read (linearly) and rejected for what it is.
    await expect(parseTabular(gz)).rejects.toMatchObject({ code: 'NO_FEATURES' });
  });
});
