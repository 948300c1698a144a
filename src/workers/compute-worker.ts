/**
 * One worker process of a pool: takes jobs from its BullMQ queue, runs each job's compute in a
 * forked child process, turns child messages into stored + published job events, and writes the
 * result. All DB writes of a run are fenced by the run's attempt number.
 *
 * Delivery is at-least-once, so the handler is idempotent: a job whose row is missing or already
 * ended is acknowledged without running; a re-delivered RUNNING job starts a new run (new fencing
 * token) and the stale run's writes match nothing.
 */
import { runWithRequestScope } from '../request-context.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job as QueueJob } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { log } from '../logger.js';
import { type JobsDeps } from '../modules/jobs/job.deps.js';
import { publishEvents } from '../modules/jobs/job.events.js';
import { failRun, settleDependents } from '../modules/jobs/job.lifecycle.js';
import { type JobErrorCode } from '../modules/jobs/job.model.js';
import { startReconciler } from '../modules/jobs/job.reconciler.js';
import { getJob, NOW, raw, transition } from '../modules/jobs/job.store.js';
import { listenForCancels } from '../queue/cancel.js';
import {
  removeHeartbeat,
  writeHeartbeat,
  type DeviceFacts,
  type WorkerHeartbeat,
} from '../queue/heartbeat.js';
import { queueName, type Pool, type QueuePayload } from '../queue/names.js';
import { Throttle } from '../queue/throttle.js';
import { RunError, runInChild } from './child-runner.js';
import { pauseForFaultInjection } from './fault.js';
import { type FailureKind, type RunOutput } from './protocol.js';
import { completeRunDurably, retryOnConnectionError } from './result-write.js';

export interface ComputeWorkerOptions {
  pool: Pool;
  concurrency: number;
  device: DeviceFacts;
  /** Threads each compute may use (default: cores / concurrency). */
  threads: number;
  redisUrl: string;
  deps: JobsDeps;
  /** Run the reconciler here too (default true). */
  reconcile?: boolean;
  /**
   * How long a finished run keeps retrying its result write while the database is unreachable
   * (RESULT_WRITE_RETRY_SECONDS; default 120 s).
   */
  resultWriteRetryMs?: number;
  /** Test-only pause point (config.faultInjection; null in production). */
  fault?: import('../config.js').FaultPoint | null;
}

interface RunningJob {
  abort: AbortController;
  attempt: number;
}

const FAILURE_CODE: Record<Exclude<FailureKind, 'ABORTED' | 'TRANSIENT'>, JobErrorCode> = {
  BAD_CONFIG: 'BAD_CONFIG',
  BAD_DATA: 'BAD_DATA',
  COMPUTE_FAILED: 'COMPUTE_FAILED',
};

/** RESULT_WRITE_RETRY_SECONDS' default, for workers built without the option. */
const RESULT_WRITE_RETRY_MS = 120_000;

/** Seconds left, extrapolated from progress so far (null until there is enough to go on). */
function eta(startedAt: number, fraction: number): number | null {
  const elapsed = (Date.now() - startedAt) / 1000;
  if (fraction < 0.02 || elapsed < 1) return null;
  return Math.max(0, Math.round((elapsed * (1 - fraction)) / fraction));
}

export class ComputeWorker {
  readonly id: string;
  private worker: Worker<QueuePayload> | null = null;
  private readonly running = new Map<string, RunningJob>();
  private readonly startedAt = new Date().toISOString();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopCancels: (() => Promise<void>) | null = null;
  private stopReconciler: (() => void) | null = null;
  private subscriber: Redis | null = null;
  private backend: string;
  /** Aborted when a stopping worker's grace period ends: result-write retries give up then. */
  private readonly stopping = new AbortController();

  constructor(private readonly opts: ComputeWorkerOptions) {
    this.id = `${opts.pool}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.backend = opts.device.backend;
  }

  get deps(): JobsDeps {
    return this.opts.deps;
  }

  async start(): Promise<void> {
    const { settings } = this.deps;
    const connection: RedisOptions = {
      ...redisOptionsFromUrl(this.opts.redisUrl),
      maxRetriesPerRequest: null,
      retryStrategy: times => Math.min(times * 200, 5000),
    };
    this.worker = new Worker<QueuePayload>(
      queueName(this.opts.pool),
      // Every log line of the run carries the job id and the request id that queued it.
      (job, _token, signal) =>
        runWithRequestScope(
          () => this.process(job, signal),
          job.data.requestId ?? `job-${job.data.jobId}`,
          job.data.jobId,
        ),
      {
        connection,
        prefix: this.deps.prefix,
        concurrency: this.opts.concurrency,
        lockDuration: settings.JOBS_LOCK_DURATION_MS,
        stalledInterval: settings.JOBS_STALLED_INTERVAL_MS,
        maxStalledCount: settings.JOBS_MAX_STALLED_COUNT,
        name: this.id,
      },
    );
    this.worker.on('error', err => log.warn('worker queue error', { error: err.message }));
    this.worker.on('stalled', jobId => log.warn('job stalled; re-queued by BullMQ', { jobId }));

    this.subscriber = new Redis(this.opts.redisUrl, {
      maxRetriesPerRequest: null,
      retryStrategy: times => Math.min(times * 200, 5000),
      connectionName: `${this.id}-cancel`,
    });
    this.subscriber.on('error', () => undefined);
    this.stopCancels = await listenForCancels(this.subscriber, this.deps.prefix, jobId =>
      this.cancelLocal(jobId, 'cancelled by user'),
    );

    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), settings.WORKER_HEARTBEAT_MS);
    if (this.opts.reconcile !== false) this.stopReconciler = startReconciler(this.deps);
    await this.worker.waitUntilReady();
    log.info('worker started', {
      id: this.id,
      pool: this.opts.pool,
      concurrency: this.opts.concurrency,
      device: this.opts.device.kind,
      cpuFallback: this.opts.device.cpuFallback,
    });
  }

  /** Stop taking jobs; running computes get `graceMs` to finish, then are handed back. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopReconciler?.();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const closing = this.worker?.close();
    const timer = setTimeout(() => {
      // Abort what is left; the jobs stay RUNNING and are re-delivered by the stall check.
      for (const r of this.running.values()) r.abort.abort(new Error('worker shutting down'));
      this.stopping.abort();
    }, graceMs);
    await closing?.catch(() => undefined);
    clearTimeout(timer);
    await this.stopCancels?.();
    this.subscriber?.disconnect();
    await removeHeartbeat(this.deps.redis, this.deps.prefix, this.id).catch(() => undefined);
  }

  private cancelLocal(jobId: string, reason: string): void {
    const r = this.running.get(jobId);
    if (!r) return;
    log.info('aborting compute', { jobId, reason });
    r.abort.abort(new Error(reason));
  }

  /**
   * Pub/sub is at-most-once: also compare the rows of the jobs running here with our runs, and
   * abort any that was cancelled or taken over (a lost cancel signal costs one heartbeat period).
   */
  private async pollRunning(): Promise<void> {
    if (this.running.size === 0) return;
    const ids = [...this.running.keys()];
    const rows = await raw<{ id: string; status: string; attempt: number }>(
      this.deps.knex,
      `SELECT id, status, attempt FROM jobs WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    ).catch(() => null);
    if (!rows) return;
    for (const id of ids) {
      const row = rows.find(r => r.id === id);
      const mine = this.running.get(id);
      if (mine && (!row || row.status !== 'RUNNING' || row.attempt !== mine.attempt)) {
        this.cancelLocal(id, row ? `job is ${row.status}` : 'job row is gone');
      }
    }
  }

  private async beat(): Promise<void> {
    void this.pollRunning();
    const hb: WorkerHeartbeat = {
      id: this.id,
      pool: this.opts.pool,
      host: hostname(),
      pid: process.pid,
      concurrency: this.opts.concurrency,
      device: { ...this.opts.device, backend: this.backend },
      running: [...this.running.keys()],
      startedAt: this.startedAt,
      lastSeenAt: new Date().toISOString(),
    };
    await writeHeartbeat(
      this.deps.redis,
      this.deps.prefix,
      hb,
      this.deps.settings.WORKER_HEARTBEAT_TTL_MS,
    ).catch(err => log.warn('heartbeat failed', { error: String(err) }));
  }

  private deviceUsed(): string {
    const d = this.opts.device;
    if (d.kind === 'gpu') return `GPU (${d.gpus[0]?.name ?? 'unknown'}, ${this.backend})`;
    return d.cpuFallback
      ? `CPU (gpu pool, --allow-cpu-fallback, ${this.backend})`
      : `CPU (${this.backend})`;
  }

  /** The BullMQ processor: one job, end to end. */
  private async process(qjob: QueueJob<QueuePayload>, signal?: AbortSignal): Promise<string> {
    const { knex, bus, settings } = this.deps;
    const jobId = qjob.data.jobId;
    const redelivered = (qjob.attemptsStarted ?? 1) > 1 || qjob.attemptsMade > 0;
    const claim = await transition(knex, jobId, {
      from: ['QUEUED', 'RUNNING'],
      to: 'RUNNING',
      kind: 'STATUS',
      patch: {
        newAttempt: true,
        startedAt: NOW,
        workerId: this.id,
        deviceUsed: this.deviceUsed(),
        deviceInfo: { ...this.opts.device, backend: this.backend, pool: this.opts.pool },
        progress: 0,
        etaSeconds: null,
        stage: 'starting',
        message: redelivered
          ? `Restarted on ${hostname()} (pid ${process.pid}) after the previous run ended early`
          : `Running on ${hostname()} (pid ${process.pid})`,
        errorCode: null,
        errorMessage: null,
      },
    });
    if (!claim) {
      const row = await getJob(knex, jobId);
      log.info('skipping queue entry', { jobId, status: row?.status ?? 'no row' });
      return row ? `skipped: ${row.status}` : 'skipped: no row';
    }
    publishEvents(bus, claim.events);
    const job = claim.job;
    const fence = job.attempt;
    const abort = new AbortController();
    const onQueueAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onQueueAbort, { once: true });
    this.running.set(jobId, { abort, attempt: fence });
    void this.beat();

    // Writes of this run go through one chain, so seqs follow the order of child messages.
    let chain: Promise<unknown> = Promise.resolve();
    let lostFence = false;
    const write = (kind: 'PROGRESS' | 'LOG', patch: Parameters<typeof transition>[2]['patch']) => {
      chain = chain.then(async () => {
        if (lostFence) return;
        const t = await transition(knex, jobId, {
          from: ['RUNNING'],
          to: 'RUNNING',
          kind,
          fence,
          patch,
        }).catch(err => {
          log.warn('job event write failed', { jobId, error: String(err) });
          return undefined;
        });
        if (t === null) {
          // Cancelled or taken over elsewhere: stop computing.
          lostFence = true;
          abort.abort(new Error('the job is no longer running here'));
        } else if (t) publishEvents(bus, t.events);
      });
    };
    const started = Date.now();
    const progress = new Throttle<{ fraction: number; stage: string }>(
      settings.JOBS_PROGRESS_MIN_INTERVAL_MS,
      ({ fraction, stage }) =>
        write('PROGRESS', {
          progress: Math.round(fraction * 1000) / 10,
          stage: stage.slice(0, 200),
          etaSeconds: eta(started, fraction),
        }),
    );
    let logs = 0;
    const artifacts = new Set<string>();
    const artifactPrefix = `jobs/${jobId}/attempt-${fence}/`;
    try {
      let output: RunOutput;
      try {
        output = await runInChild(
          {
            jobId,
            ownerId: job.ownerId,
            datasetId: job.datasetId,
            type: job.type,
            config: job.config,
            attempt: fence,
            backend: this.opts.device.kind === 'gpu' ? 'gpu' : 'auto',
            threads: this.opts.threads,
          },
          {
            signal: abort.signal,
            graceMs: settings.JOBS_CANCEL_GRACE_MS,
            hooks: {
              onStarted: backend => {
                this.backend = backend;
              },
              onProgress: (fraction, stage) => progress.push({ fraction, stage }),
              onLog: message => {
                if (++logs <= 200) write('LOG', { message: message.slice(0, 2000) });
              },
            },
          },
        );
      } finally {
        progress.cancel();
      }
      for (const a of output.artifacts) artifacts.add(a);
      await chain;
      if (this.opts.fault === 'pause-before-result') await pauseForFaultInjection(jobId);
      // Retried (idempotently) while PostgreSQL is unreachable: the compute is done, a database
      // restart must not cost a re-run or a FAILED job.
      const done = await completeRunDurably(
        knex,
        jobId,
        fence,
        output,
        `Completed in ${Math.round((Date.now() - started) / 100) / 10} s`,
        {
          retryMs: this.opts.resultWriteRetryMs ?? RESULT_WRITE_RETRY_MS,
          signal: this.stopping.signal,
        },
      );
      if (!done) {
        await this.removeArtifacts(artifactPrefix);
        const row = await getJob(knex, jobId);
        log.info('run superseded; result discarded', { jobId, fence, status: row?.status });
        return 'superseded';
      }
      publishEvents(bus, done.events);
      // The job is COMPLETED: a failure here must not reach the failure path below (it would
      // delete the stored result's artifacts). The reconciler settles dependents it missed.
      await settleDependents(this.deps, jobId).catch(err =>
        log.warn('could not settle dependents; left to the reconciler', {
          jobId,
          error: String(err),
        }),
      );
      return 'completed';
    } catch (err) {
      await chain;
      const e = err instanceof RunError ? err : new RunError('TRANSIENT', String(err));
      if (e.kind === 'ABORTED' || lostFence) {
        await this.removeArtifacts(artifactPrefix);
        const row = await getJob(knex, jobId);
        if (row?.status === 'RUNNING' && row.attempt === fence && !lostFence) {
          // Aborted by shutdown, not by a user: hand the job back for another worker.
          const t = await transition(knex, jobId, {
            from: ['RUNNING'],
            to: 'QUEUED',
            kind: 'STATUS',
            fence,
            patch: { queuedAt: NOW, etaSeconds: null, message: 'Worker shut down; re-queued' },
          });
          if (t) publishEvents(bus, t.events);
          throw new Error('worker shut down during the run', { cause: err });
        }
        throw new UnrecoverableError(`run stopped: job is ${row?.status ?? 'gone'}`);
      }
      const detail = e.field ? `${e.field}: ${e.message}` : e.message;
      if (e.kind === 'TRANSIENT') {
        const attempts = qjob.opts.attempts ?? 1;
        if (qjob.attemptsMade + 1 < attempts) {
          const delay = settings.JOBS_BACKOFF_MS * 2 ** qjob.attemptsMade;
          const t = await transition(knex, jobId, {
            from: ['RUNNING'],
            to: 'QUEUED',
            kind: 'STATUS',
            fence,
            patch: {
              queuedAt: NOW,
              etaSeconds: null,
              message: `Attempt ${qjob.attemptsMade + 1} of ${attempts} failed (${detail}); retrying in ${Math.round(delay / 1000)} s`,
            },
          });
          if (t) publishEvents(bus, t.events);
          await this.removeArtifacts(artifactPrefix);
          throw new Error(detail, { cause: err });
        }
        await this.removeArtifacts(artifactPrefix);
        await this.durably(() =>
          failRun(this.deps, jobId, fence, 'TRANSIENT', `${detail} (after ${attempts} attempts)`),
        );
        throw new UnrecoverableError(detail);
      }
      await this.removeArtifacts(artifactPrefix);
      // A deterministic failure must not turn into a re-run because the database blinked.
      const code = FAILURE_CODE[e.kind];
      await this.durably(() => failRun(this.deps, jobId, fence, code, detail));
      throw new UnrecoverableError(detail);
    } finally {
      signal?.removeEventListener('abort', onQueueAbort);
      this.running.delete(jobId);
      void this.beat();
    }
  }

  /**
   * A terminal write retried across database connection errors (RESULT_WRITE_RETRY_SECONDS).
   * Safe for fenced transitions: a retry after a commit whose reply was lost matches no row.
   */
  private durably<T>(write: () => Promise<T>): Promise<T> {
    return retryOnConnectionError(write, {
      retryMs: this.opts.resultWriteRetryMs ?? RESULT_WRITE_RETRY_MS,
      signal: this.stopping.signal,
    });
  }

  private async removeArtifacts(prefix: string): Promise<void> {
    await this.deps.storage
      .deletePrefix(prefix)
      .catch(err => log.warn('could not remove partial artifacts', { prefix, error: String(err) }));
  }
}

export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}
