import { Rng } from '../../../../compute/core/rng';
import { type LineMode, type RawRecord, readRecords } from '../../../../compute/io/records';
import { TabularParseError } from '../../../../compute/io/tabular';

const BREAK: Record<LineMode, string> = { lf: '\n', crlf: '\r\n', cr: '\r' };

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect(text: string, mode: LineMode, chunk: number): Promise<RawRecord[]> {
  const it = chunked(text, chunk);
  const first = await it.next();
  const out: RawRecord[] = [];
  for await (const r of readRecords(first.done ? '' : first.value, it, {
    delimiter: ',',
    mode,
    maxRecordChars: 1 << 20,
  })) {
    out.push(r);
  }
  return out;
}

/** A random quote-free table: fields with spaces, tabs, "é", blank lines, optional final break. */
function randomTable(rng: Rng, mode: LineMode): { lines: string[]; text: string } {
  const alphabet = ['a', 'B', '1', '.', '-', ' ', '\t', 'é', 'NA', '3e5'];
  const cols = 1 + rng.int(6);
  const lines: string[] = [];
  const parts: string[] = [];
  const rows = 1 + rng.int(12);
  for (let i = 0; i < rows; i++) {
    if (rng.random() < 0.15) parts.push(''); // blank line
    const fields = Array.from({ length: cols }, () =>
      Array.from({ length: rng.int(4) }, () => alphabet[rng.int(alphabet.length)]).join(''),
    );
    const line = fields.join(',');
    parts.push(line);
    if (line.length > 0) lines.push(line);
  }
  const text = parts.join(BREAK[mode]) + (rng.random() < 0.5 ? BREAK[mode] : '');
  return { lines, text };
}

describe('readRecords: native split and csv-parse agree', () => {
  it('gives identical records and line numbers on random quote-free tables, any chunking', async () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 150; trial++) {
      const mode = (['lf', 'crlf', 'cr'] as const)[trial % 3]!;
      const { text } = randomTable(rng, mode);
      const chunk = 1 + rng.int(9);
      const fast = await collect(text, mode, chunk);
      // A leading quoted line sends the whole input through csv-parse; it adds one line.
      const viaCsv = (await collect(`"q"${BREAK[mode]}${text}`, mode, chunk)).slice(1);
      expect(viaCsv.map(r => ({ ...r, line: r.line - 1 }))).toEqual(fast);
      expect(fast.every(r => !r.fields.some(f => f.includes('\n')))).toBe(true);
    }
  });

  it('hands over to csv-parse at the first quoted line and keeps counting lines', async () => {
    const text = 'id,g\na,1\n\nb,"2,5"\n"c\nd",3\ne,4';
    const recs = await collect(text, 'lf', 3);
    expect(recs).toEqual([
      { fields: ['id', 'g'], line: 1 },
      { fields: ['a', '1'], line: 2 },
      { fields: ['b', '2,5'], line: 4 },
      { fields: ['c\nd', '3'], line: 5 },
      { fields: ['e', '4'], line: 7 },
    ]);
  });

  it('bounds the length of a line on both paths', async () => {
    const long = 'x'.repeat(300);
    for (const text of [`a\n${long}\n`, `a\n"${long}"\n`, `a\n${long}`]) {
      const run = async (): Promise<void> => {
        const it = chunked(text, 16);
        const first = await it.next();
        for await (const _r of readRecords(first.value as string, it, {
          delimiter: ',',
          mode: 'lf',
          maxRecordChars: 100,
        })) {
          // drain
        }
      };
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TabularParseError);
      expect(err).toMatchObject({ code: 'TOO_LARGE', line: 2 });
    }
  });
});
