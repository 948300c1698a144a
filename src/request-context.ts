/**
 * Per-request values that code deep in the call stack (error formatting, logging) needs without
 * threading them through every call: set once by the HTTP middleware / WebSocket handler.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestScope {
  requestId: string;
  /** Set in workers while a job runs, so every log line names it. */
  jobId?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runWithRequestScope<T>(
  fn: () => T,
  requestId: string = randomUUID(),
  jobId?: string,
): T {
  return storage.run(jobId ? { requestId, jobId } : { requestId }, fn);
}

export function currentJobId(): string | undefined {
  return storage.getStore()?.jobId;
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
