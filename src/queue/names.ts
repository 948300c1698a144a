/** Queue names, pools and priorities shared by the API (producer) and the workers (consumers). */

export type Pool = 'cpu' | 'gpu';
export const POOLS: readonly Pool[] = ['cpu', 'gpu'];

/** One BullMQ queue per pool; a job's routing decides which one it enters. */
export function queueName(pool: Pool): string {
  return `compute-${pool}`;
}

export type PriorityName = 'HIGH' | 'NORMAL' | 'LOW';

/**
 * BullMQ priorities: lower runs first, and a job with no priority runs before every prioritised
 * job, so every job we add gets one of these.
 */
export const PRIORITY_VALUE: Record<PriorityName, number> = { HIGH: 1, NORMAL: 5, LOW: 10 };

/** The BullMQ payload: ids only (job data is stored in clear text in Redis). */
export interface QueuePayload {
  jobId: string;
  /** The API request that queued it (absent when the reconciler did), for log correlation. */
  requestId?: string;
}

/** Redis channel on which cancel requests reach whichever worker holds the job. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:job-cancel`;
}
