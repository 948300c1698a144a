/**
 * What every compute command does around its work: pick the tensor backend, draw the progress
 * bar (not with --json: stdout stays one JSON object), stop at the next abort check on Ctrl-C,
 * and time the run.
 */
import { performance } from 'node:perf_hooks';
import { type RunContext } from '../core/method';
import { Rng } from '../core/rng';
import { type BackendPreference, initTensorBackend } from '../core/tensor';
import { progressBar } from './output';

export interface RunOptions {
  json?: boolean;
  seed: number;
  /** Worker threads; undefined or 0 = the library's default. */
  threads?: number;
  /** Tensor backend named on the command line (else the library picks one). */
  backend?: BackendPreference;
}

/** Signal that fires on Ctrl-C, so a long run stops at its next abort check. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  const onInt = () => ctl.abort();
  process.once('SIGINT', onInt);
  return { signal: ctl.signal, dispose: () => process.off('SIGINT', onInt) };
}

export async function runTimed<T>(
  opts: RunOptions,
  work: (ctx: RunContext) => Promise<T>,
): Promise<{ result: T; seconds: number }> {
  if (opts.backend) {
    process.env.OMICSELECTOR_BACKEND = opts.backend;
    await initTensorBackend(opts.backend);
  }
  const bar = progressBar(!opts.json);
  const interrupt = interruptSignal();
  const ctx: RunContext = {
    rng: new Rng(opts.seed),
    signal: interrupt.signal,
    progress: bar.progress,
    threads: opts.threads && opts.threads > 0 ? opts.threads : undefined,
  };
  const t0 = performance.now();
  try {
    const result = await work(ctx);
    return { result, seconds: (performance.now() - t0) / 1000 };
  } finally {
    bar.done();
    interrupt.dispose();
  }
}
