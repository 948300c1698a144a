/**
 * Multi-core map over worker_threads: trees, folds, subsamples and penalty paths split here.
 *
 * A task is a named export of a compiled module: `parallelMap(__filename, 'fitTree', inputs)`.
 * Each thread `require`s the module once and calls the function per input; inputs and outputs
 * cross by structured clone (typed arrays copy fast; pass a SharedArrayBuffer to share a matrix).
 *
 * Under ts-jest/swc the caller's file is TypeScript, which a worker thread cannot load; we then
 * use the compiled twin under dist/ when `npm run build` has produced it, else run in-process.
 * Results are identical either way because every task derives its randomness from its input.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkAbort } from './method';

const projectRoot = join(__dirname, '..', '..').replace(/[/\\]dist$/, '');

interface PendingTask {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

const ENTRY_SOURCE = `
const { parentPort } = require('node:worker_threads');
const cache = new Map();
parentPort.on('message', async msg => {
  try {
    let mod = cache.get(msg.module);
    if (!mod) { mod = require(msg.module); cache.set(msg.module, mod); }
    const result = await mod[msg.fn](msg.input);
    parentPort.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: { message: String(e && e.message || e), name: e && e.name } });
  }
});
`;

class ThreadPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly pending = new Map<number, PendingTask>();
  private nextId = 1;

  private spawn(): Worker {
    const w = new Worker(ENTRY_SOURCE, { eval: true });
    w.on(
      'message',
      (msg: { id: number; result?: unknown; error?: { message: string; name?: string } }) => {
        const task = this.pending.get(msg.id);
        if (!task) return;
        this.pending.delete(msg.id);
        this.idle.push(w);
        w.unref();
        if (msg.error) {
          const e = new Error(msg.error.message);
          if (msg.error.name) e.name = msg.error.name;
          task.reject(e);
        } else task.resolve(msg.result);
      },
    );
    w.on('error', err => {
      this.all.delete(w);
      for (const [id, t] of this.pending) {
        t.reject(err);
        this.pending.delete(id);
      }
    });
    this.all.add(w);
    return w;
  }

  run<R>(module: string, fn: string, input: unknown): Promise<R> {
    const w = this.idle.pop() ?? this.spawn();
    w.ref();
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, module, fn, input });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map(w => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }
}

let pool: ThreadPool | null = null;

/** Terminate the shared thread pool (tests, worker shutdown). */
export async function closeThreadPool(): Promise<void> {
  await pool?.close();
  pool = null;
}

export function defaultThreads(): number {
  const env = Number(process.env.OMICSELECTOR_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** The loadable JS file for a module, or null when only TypeScript exists. */
function loadableModule(file: string): string | null {
  if (file.endsWith('.js')) return file;
  const js = join(projectRoot, 'dist', relative(projectRoot, file)).replace(/\.ts$/, '.js');
  return existsSync(js) ? js : null;
}

/**
 * Runs the same task on the calling thread and on `threads − 1` worker threads at once, for tasks
 * that divide their work among themselves through shared memory (e.g. a claim counter in a
 * SharedArrayBuffer): the caller computes instead of waiting for a message round trip, and a core
 * that is busy with something else only takes fewer claims. `local` is `fn` itself, called here
 * synchronously after the workers were posted; resolves once every copy has returned. With no
 * loadable module (TypeScript under jest) or OMICSELECTOR_NO_THREADS=1, only the caller runs.
 */
export async function runWithCaller<I>(
  moduleFile: string,
  fn: string,
  input: I,
  threads: number,
  local: (input: I) => unknown,
): Promise<void> {
  const js = loadableModule(moduleFile);
  const remote: Promise<unknown>[] = [];
  if (js !== null && process.env.OMICSELECTOR_NO_THREADS !== '1') {
    pool ??= new ThreadPool();
    for (let t = 1; t < threads; t++) remote.push(pool.run(js, fn, input));
  }
  try {
    local(input);
  } finally {
    // the workers may still be reading the caller's memory: never return before they are done
    await Promise.allSettled(remote);
  }
  await Promise.all(remote);
}

/**
 * Map `fn` (an export of `moduleFile`) over inputs on up to `threads` worker threads, preserving
 * order. `onDone` fires after each completed input (for progress). Aborts between tasks.
 */
export async function parallelMap<I, R>(
  moduleFile: string,
  fn: string,
  inputs: readonly I[],
  opts: {
    threads?: number;
    signal?: AbortSignal;
    onDone?: (done: number, total: number) => void;
  } = {},
): Promise<R[]> {
  const threads = Math.max(1, Math.min(opts.threads ?? defaultThreads(), inputs.length));
  const js = loadableModule(moduleFile);
  const results = new Array<R>(inputs.length);
  let done = 0;
  if (threads === 1 || js === null || process.env.OMICSELECTOR_NO_THREADS === '1') {
    const mod = require(moduleFile) as Record<string, (input: I) => R | Promise<R>>;
    for (let i = 0; i < inputs.length; i++) {
      checkAbort(opts.signal);
      results[i] = await mod[fn]!(inputs[i]!);
      opts.onDone?.(++done, inputs.length);
    }
    return results;
  }
  pool ??= new ThreadPool();
  const p = pool;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < inputs.length) {
      checkAbort(opts.signal);
      const i = next++;
      results[i] = await p.run<R>(js, fn, inputs[i]);
      opts.onDone?.(++done, inputs.length);
    }
  };
  await Promise.all(Array.from({ length: threads }, lane));
  return results;
}
