/**
 * Runs one job's compute in a forked child process, so the worker's event loop stays free to renew
 * queue locks, send heartbeats and hear cancel signals. Abort = ask the child to stop (its compute
 * checks the AbortSignal between iterations); if it has not exited after the grace period it is
 * killed, which also frees any GPU memory it held.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  type ChildMessage,
  type FailureKind,
  type ParentMessage,
  type RunOutput,
  type RunSpec,
} from './protocol.js';

export class RunError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RunError';
  }
}

export interface ChildHooks {
  onStarted?(backend: string): void;
  onProgress?(fraction: number, stage: string): void;
  onLog?(message: string): void;
}

export interface ChildRunOptions {
  signal: AbortSignal;
  graceMs: number;
  hooks: ChildHooks;
  /** Compiled child entry (defaults to the sibling compute-child.js). */
  entry?: string;
  env?: NodeJS.ProcessEnv;
}

export function runInChild(spec: RunSpec, opts: ChildRunOptions): Promise<RunOutput> {
  const entry = opts.entry ?? join(__dirname, 'compute-child.js');
  return new Promise<RunOutput>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    const child: ChildProcess = fork(entry, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...opts.env, OMICSELECTOR_THREADS: String(spec.threads) },
    });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      fn();
      // The child exits by itself after reporting; make sure a wedged one cannot linger.
      const reap = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, 5_000);
      reap.unref();
      child.once('exit', () => clearTimeout(reap));
    };
    const onAbort = () => {
      send({ type: 'abort' });
      killTimer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, opts.graceMs);
      killTimer.unref();
    };
    const send = (msg: ParentMessage) => {
      if (child.connected) child.send(msg, err => err && undefined);
    };
    child.on('message', (msg: ChildMessage) => {
      switch (msg.type) {
        case 'started':
          opts.hooks.onStarted?.(msg.backend);
          break;
        case 'progress':
          opts.hooks.onProgress?.(msg.fraction, msg.stage);
          break;
        case 'log':
          opts.hooks.onLog?.(msg.message);
          break;
        case 'done':
          finish(() => resolve(msg.output));
          break;
        case 'failed':
          finish(() =>
            reject(new RunError(msg.failure.kind, msg.failure.message, msg.failure.field)),
          );
          break;
      }
    });
    child.on('error', err => finish(() => reject(new RunError('TRANSIENT', err.message))));
    child.on('exit', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (opts.signal.aborted) {
        finish(() => reject(new RunError('ABORTED', 'the run was cancelled')));
        return;
      }
      finish(() =>
        reject(
          new RunError(
            'TRANSIENT',
            `the compute process exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); ` +
              'it may have run out of memory',
          ),
        ),
      );
    });
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
    send({ type: 'run', spec });
  });
}
