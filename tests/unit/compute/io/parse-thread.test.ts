import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDataset } from '../../../../compute/io/binary';
import { TabularParseError } from '../../../../compute/io/errors';
import { parseTabularOffThread } from '../../../../compute/io/parse-thread';
import { parseTabular } from '../../../../compute/io/tabular';

const threaded = existsSync(join(__dirname, '../../../../dist/compute/io/parse-thread-entry.js'));

function csv(rows: number, cols: number): Buffer {
  const header = ['id', 'group', ...Array.from({ length: cols }, (_, j) => `g${j}`)].join(',');
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const vals = Array.from({ length: cols }, (_, j) => ((i * 31 + j * 7) % 97) / 10);
    lines.push([`s${i}`, i % 2 ? 'case' : 'ctrl', ...vals].join(','));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Many small chunks, so the bounded in-flight window is exercised. */
async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe(`parseTabularOffThread (${threaded ? 'worker thread' : 'in-process fallback'})`, () => {
  const opts = { outcome: { kind: 'binary' as const, column: 'group', positiveClass: 'case' } };

  it('gives the same dataset, summary and matrix as the in-process reader', async () => {
    const bytes = csv(60, 40);
    const off = await parseTabularOffThread(chunked(bytes, 97), opts);
    const inline = await parseTabular(bytes, opts);
    expect(off.summary).toEqual(inline.summary);
    expect(off.dataset.featureNames).toEqual(inline.dataset.featureNames);
    expect(Array.from(off.dataset.data)).toEqual(Array.from(inline.dataset.data));
    expect(Array.from(decodeDataset(off.matrix).data)).toEqual(Array.from(inline.dataset.data));
  });

  it('rebuilds parse errors with line and column', async () => {
    const bad = Buffer.from('id,group,a,b\ns1,case,1,2\ns2,ctrl,x,3\n');
    const err = await parseTabularOffThread(chunked(bad, 5), opts).catch(e => e as Error);
    expect(err).toBeInstanceOf(TabularParseError);
    expect((err as TabularParseError).line).toBe(3);
    expect((err as TabularParseError).column).toBe(3);
    expect((err as Error).message).toMatch(/line 3, column 3/);
  });
});
