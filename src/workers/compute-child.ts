/**
 * Entry of the compute child process (forked by the worker for each job). Runs one job's runner
 * with an AbortSignal the parent can fire, reports progress (throttled) and the result over IPC,
 * then exits. If the parent dies, the child exits too (no orphaned compute).
 */
import 'reflect-metadata';
import { ArgumentError } from '../../compute/core/args.js';
import { Rng } from '../../compute/core/rng.js';
import { activeTensorBackend, initTensorBackend } from '../../compute/core/tensor.js';
import { AppError } from '../errors.js';
import { ConfigError } from '../modules/jobs/job.config.js';
import { Throttle } from '../queue/throttle.js';
import { openChildIo } from './child-io.js';
import {
  type ChildMessage,
  type ParentMessage,
  type RunFailure,
  type RunSpec,
} from './protocol.js';
import { JobInputError, type RunnerContext } from './runners/context.js';
import { runners } from './runners/index.js';

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ESOCKETTIMEDOUT',
  'STORAGE_UNAVAILABLE', // StorageUnavailableError: object store down or 5xx (src/storage)
  '57P01', // PostgreSQL admin shutdown
  '08006', // PostgreSQL connection failure
  '08001',
]);

export function classify(err: unknown, aborted: boolean): RunFailure {
  const e = err as { name?: string; message?: string; code?: unknown; field?: string };
  const message = String(e?.message ?? err);
  if (aborted || e?.name === 'AbortError')
    return { kind: 'ABORTED', message: 'the run was cancelled' };
  if (err instanceof JobInputError) return { kind: err.kind, message, field: err.field };
  if (err instanceof ConfigError) return { kind: 'BAD_CONFIG', message, field: err.field };
  if (err instanceof ArgumentError) return { kind: 'BAD_CONFIG', message, field: err.field };
  if (err instanceof AppError) {
    // The datasets loader: NOT_FOUND (deleted / not yours) or BAD_USER_INPUT (not READY).
    return { kind: err.code === 'INTERNAL' ? 'COMPUTE_FAILED' : 'BAD_DATA', message };
  }
  if (
    e?.name === 'TabularParseError' ||
    e?.name === 'MatrixIntegrityError' ||
    e?.name === 'ObjectNotFoundError'
  ) {
    return { kind: 'BAD_DATA', message };
  }
  if (typeof e?.code === 'string' && TRANSIENT_CODES.has(e.code))
    return { kind: 'TRANSIENT', message };
  if (
    /connection (terminated|closed|refused)|timeout acquiring a connection|socket hang up/i.test(
      message,
    )
  ) {
    return { kind: 'TRANSIENT', message };
  }
  return { kind: 'COMPUTE_FAILED', message };
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise(resolve => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

async function run(spec: RunSpec, controller: AbortController): Promise<void> {
  const progress = new Throttle<{ fraction: number; stage: string }>(50, p => {
    void send({ type: 'progress', ...p });
  });
  let io: Awaited<ReturnType<typeof openChildIo>> | null = null;
  try {
    if (spec.backend === 'gpu') await initTensorBackend('gpu');
    await send({ type: 'started', backend: activeTensorBackend() ?? 'float64' });
    io = await openChildIo(spec);
    const seed = typeof spec.config.seed === 'number' ? spec.config.seed : 42;
    const rc: RunnerContext = {
      spec,
      io: {
        ...io.io,
        putArtifact: async (key, body, type) => {
          await io!.io.putArtifact(key, body, type);
        },
      },
      run: {
        rng: new Rng(seed),
        signal: controller.signal,
        progress: (fraction, stage) => progress.push({ fraction, stage }),
        threads: spec.threads,
      },
      log: message => void send({ type: 'log', message }),
      artifactKey: name => `jobs/${spec.jobId}/attempt-${spec.attempt}/${name}`,
    };
    const output = await runners[spec.type](rc);
    progress.flush();
    await send({ type: 'done', output });
  } catch (err) {
    progress.cancel();
    await send({ type: 'failed', failure: classify(err, controller.signal.aborted) });
  } finally {
    await io?.close().catch(() => undefined);
  }
}

if (require.main === module) {
  const controller = new AbortController();
  // Parent gone (worker killed): stop at once rather than computing for nobody.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'abort') controller.abort();
    else if (msg.type === 'run') {
      void run(msg.spec, controller).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
}
