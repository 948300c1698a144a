/**
 * Parse an upload on a worker thread: the caller's event loop only moves bytes (transferring
 * chunks, with a bounded number in flight so a fast source cannot pile the file up in memory),
 * while splitting, number parsing and matrix encoding run on another core.
 *
 * When only TypeScript sources exist (ts-jest/swc without `npm run build`), a worker thread cannot
 * load the entry, so the parse runs in-process — same code, same result.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { encodeDataset } from './binary';
import { TabularParseError, type TabularErrorCode } from './errors';
import { type TabularOptions, type TabularResult, parseTabular } from './tabular';
import { type ByteSource } from './text';

export interface ParsedUpload extends TabularResult {
  /** The binary matrix (compute/io/binary.ts) ready to store. */
  matrix: Buffer;
}

const MAX_IN_FLIGHT = 8;

function entryFile(): string | null {
  const js = join(__dirname, 'parse-thread-entry.js');
  if (existsSync(js)) return js;
  const compiled = join(__dirname, '..', '..', 'dist', 'compute', 'io', 'parse-thread-entry.js');
  return existsSync(compiled) ? compiled : null;
}

type WorkerReply =
  | { ack: true }
  | {
      done: {
        dataset: Omit<TabularResult['dataset'], 'data'>;
        data: Float64Array;
        summary: TabularResult['summary'];
        matrix: Uint8Array;
      };
    }
  | {
      error:
        | {
            parse: true;
            code: TabularErrorCode;
            line: number | null;
            column: number | null;
            detail: string;
            columnName?: string;
          }
        | { parse: false; message: string };
    };

export async function parseTabularOffThread(
  source: ByteSource,
  opts: Omit<TabularOptions, 'signal'> = {},
): Promise<ParsedUpload> {
  const entry = entryFile();
  if (entry === null || process.env.OMICSELECTOR_NO_THREADS === '1') {
    const r = await parseTabular(source, opts);
    return { ...r, matrix: encodeDataset(r.dataset) };
  }
  const worker = new Worker(entry, { workerData: opts });
  let credits = MAX_IN_FLIGHT;
  let creditWaiter: (() => void) | null = null;
  let settled = false;
  const result = new Promise<ParsedUpload>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if ('ack' in m) {
        credits++;
        creditWaiter?.();
        return;
      }
      settled = true;
      creditWaiter?.();
      if ('done' in m) {
        const d = m.done;
        resolve({
          dataset: { ...d.dataset, data: d.data },
          summary: d.summary,
          matrix: Buffer.from(d.matrix.buffer, d.matrix.byteOffset, d.matrix.byteLength),
        });
      } else if (m.error.parse) {
        const e = m.error;
        reject(new TabularParseError(e.code, e.line, e.column, e.detail, e.columnName));
      } else reject(new Error(m.error.message));
    });
    worker.on('error', err => {
      settled = true;
      creditWaiter?.();
      reject(err);
    });
  });
  // Keep the promise observed while we pump bytes, so an early worker failure is not unhandled.
  result.catch(() => undefined);
  try {
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      source instanceof Uint8Array ? [source] : source;
    for await (const chunk of chunks) {
      if (settled) break;
      while (credits === 0 && !settled) await new Promise<void>(r => (creditWaiter = r));
      if (settled) break;
      credits--;
      // Copy into an owned buffer: storage streams may hand out views of a shared pool.
      const owned = new Uint8Array(chunk.byteLength);
      owned.set(chunk);
      worker.postMessage({ chunk: owned }, [owned.buffer]);
    }
    if (!settled) worker.postMessage({ end: true });
    return await result;
  } finally {
    void worker.terminate();
  }
}
