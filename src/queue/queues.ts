/**
 * Producer side of the two compute queues. The BullMQ job id IS the job's id, so adding twice is a
 * no-op (idempotent enqueue) and the reconciler can re-add blindly.
 */
import { currentRequestId } from '../request-context.js';
import { Queue, type JobsOptions } from 'bullmq';
import { type Redis, type RedisOptions } from 'ioredis';
import {
  PRIORITY_VALUE,
  queueName,
  type Pool,
  type PriorityName,
  type QueuePayload,
} from './names.js';
import { TickBatcher } from './batch.js';
import { type QueueSettings } from './settings.js';

/** BullMQ states in which the job is still waiting for or inside a worker. */
const LIVE_STATES = new Set(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);

export type QueueEntryState = 'live' | 'completed' | 'failed' | 'missing';

interface NewEntry {
  jobId: string;
  priority: PriorityName;
  requestId: string | undefined;
}

export class ComputeQueues {
  private readonly queues: Record<Pool, Queue<QueuePayload>>;
  /** Adds of the same tick go to Redis as one `addBulk` (one MULTI) per pool. */
  private readonly adders: Record<Pool, TickBatcher<NewEntry>>;

  constructor(
    connection: Redis | RedisOptions,
    private readonly settings: QueueSettings,
    /** The deployment's Redis namespace (REDIS_PREFIX): BullMQ keys are `<prefix>:compute-cpu:…`. */
    prefix: string,
  ) {
    const make = (pool: Pool) => new Queue<QueuePayload>(queueName(pool), { connection, prefix });
    this.queues = { cpu: make('cpu'), gpu: make('gpu') };
    const adder = (pool: Pool) =>
      new TickBatcher<NewEntry>(async entries => {
        await this.queues[pool].addBulk(
          entries.map(e => ({
            name: 'compute',
            data: e.requestId ? { jobId: e.jobId, requestId: e.requestId } : { jobId: e.jobId },
            opts: this.jobOptions(e.jobId, e.priority),
          })),
        );
      });
    this.adders = { cpu: adder('cpu'), gpu: adder('gpu') };
    for (const q of Object.values(this.queues)) {
      // Connection errors surface on the calls that need Redis; don't crash on the event.
      q.on('error', () => undefined);
    }
  }

  queue(pool: Pool): Queue<QueuePayload> {
    return this.queues[pool];
  }

  jobOptions(jobId: string, priority: PriorityName): JobsOptions {
    return {
      jobId,
      priority: PRIORITY_VALUE[priority],
      attempts: this.settings.JOBS_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.settings.JOBS_BACKOFF_MS },
      // History lives in PostgreSQL; Redis keeps only a bounded tail.
      removeOnComplete: { count: this.settings.JOBS_KEEP_COMPLETED },
      removeOnFail: { count: this.settings.JOBS_KEEP_FAILED },
    };
  }

  /**
   * Add (idempotent by job id). Resolves once Redis has the entry. Adds made in the same tick
   * (parallel submits) share one `addBulk` round trip; if it fails, all of them fail (the outbox
   * reconciler re-adds them).
   */
  async enqueue(pool: Pool, jobId: string, priority: PriorityName): Promise<void> {
    await this.adders[pool].add({ jobId, priority, requestId: currentRequestId() });
  }

  /**
   * Put a finished job back for a retry: a completed/failed BullMQ entry with the same id would
   * make `add` a silent no-op, so remove it first.
   */
  async requeue(pool: Pool, jobId: string, priority: PriorityName): Promise<void> {
    for (const p of ['cpu', 'gpu'] as const) {
      const existing = await this.queues[p].getJob(jobId);
      if (!existing) continue;
      const state = await existing.getState();
      if (state === 'active') {
        // A previous run is still winding down (e.g. cancelled a moment ago): try again later.
        throw new Error(`job ${jobId} is still active in ${queueName(p)}`);
      }
      if (LIVE_STATES.has(state) && p === pool) return;
      await existing.remove();
    }
    await this.enqueue(pool, jobId, priority);
  }

  async entryState(
    pool: Pool,
    jobId: string,
  ): Promise<{ state: QueueEntryState; reason: string | null }> {
    const job = await this.queues[pool].getJob(jobId);
    if (!job) return { state: 'missing', reason: null };
    const state = await job.getState();
    if (state === 'completed') return { state: 'completed', reason: null };
    if (state === 'failed') return { state: 'failed', reason: job.failedReason ?? null };
    if (state === 'unknown') return { state: 'missing', reason: null };
    return { state: 'live', reason: null };
  }

  /** Remove a job that has not started (cancel of a waiting job). Active jobs are left alone. */
  async removeWaiting(pool: Pool, jobId: string): Promise<void> {
    const job = await this.queues[pool].getJob(jobId);
    if (!job) return;
    const state = await job.getState();
    if (state !== 'active') await job.remove().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map(q => q.close()));
  }
}
