/**
 * Worker-thread side of `parseTabularOffThread`: receives the upload's bytes as transferred
 * chunks, parses them with the same streaming reader, encodes the binary matrix and sends both
 * back. Runs in its own thread so a multi-GB parse never blocks the API's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeDataset } from './binary';
import { TabularParseError } from './errors';
import { type TabularOptions, parseTabular } from './tabular';

interface ChunkMessage {
  chunk?: Uint8Array;
  end?: boolean;
}

async function* incoming(): AsyncGenerator<Uint8Array> {
  const port = parentPort!;
  const queue: ChunkMessage[] = [];
  let wake: (() => void) | null = null;
  port.on('message', (m: ChunkMessage) => {
    queue.push(m);
    wake?.();
  });
  for (;;) {
    if (queue.length === 0) await new Promise<void>(r => (wake = r));
    wake = null;
    const m = queue.shift()!;
    if (m.end) return;
    // Credit back to the sender: it keeps a bounded number of chunks in flight.
    port.postMessage({ ack: true });
    yield m.chunk!;
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  try {
    const result = await parseTabular(incoming(), workerData as TabularOptions);
    const matrix = encodeDataset(result.dataset);
    const { data, ...rest } = result.dataset;
    port.postMessage({ done: { dataset: rest, data, summary: result.summary, matrix } }, [
      data.buffer as ArrayBuffer,
      matrix.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      error:
        e instanceof TabularParseError
          ? {
              parse: true,
              code: e.code,
              line: e.line,
              column: e.column,
              detail: e.detail,
              columnName: e.columnName,
            }
          : { parse: false, message: err.message ?? String(e) },
    });
  }
}

void main();
