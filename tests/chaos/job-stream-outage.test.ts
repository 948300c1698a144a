/**
 * The replay-then-live job stream while its event store is unreachable (a database restart), with
 * an in-memory bus and store (no services): the stream must not end or throw; it keeps delivering
 * live events that follow on, refills from the store once it is readable again, and ends after
 * the terminal event with every seq exactly once. Before the fix a failed store read ended the
 * subscription with an error, so every client of every API instance lost its stream when
 * PostgreSQL restarted.
 */
import { type JobEventRecord } from '../../src/modules/jobs/job.model';
import { openJobStream } from '../../src/modules/jobs/job.stream';

function ev(seq: number, kind = 'PROGRESS', status = 'RUNNING'): JobEventRecord {
  return {
    jobId: 'j',
    ownerId: 'o',
    seq,
    kind: kind as JobEventRecord['kind'],
    status: status as JobEventRecord['status'],
    progress: seq,
    stage: null,
    message: null,
    at: new Date(0),
  };
}

test('a store outage neither ends nor breaks the stream; every event arrives exactly once', async () => {
  const handlers = new Map<number, (p: unknown) => void>();
  let nextId = 1;
  const bus = {
    subscribe: async (_topic: string, on: (p: unknown) => void) => {
      handlers.set(nextId, on);
      return nextId++;
    },
    unsubscribe: (id: number) => void handlers.delete(id),
  };
  const publish = (e: JobEventRecord) => {
    for (const h of handlers.values()) h({ ...e, at: e.at.toISOString() });
  };
  const stored: JobEventRecord[] = [ev(1, 'STATUS', 'QUEUED'), ev(2, 'STATUS')];
  let down = false;
  let failedReads = 0;
  const load = async (after: number, limit: number) => {
    if (down) {
      failedReads++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    }
    return stored.filter(e => e.seq > after).slice(0, limit);
  };

  const it = await openJobStream({ bus, topic: 't', afterSeq: 0, load, pollMs: 20 });
  const got: number[] = [];
  const take = async () => {
    const r = await it.next();
    if (!r.done) got.push(r.value.seq);
    return r;
  };
  await take();
  await take();
  expect(got).toEqual([1, 2]);

  // The database goes away. Event 3 was stored (before the outage) but its publish was lost;
  // 4 arrives live. The stream must keep waiting, not end.
  stored.push(ev(3));
  down = true;
  publish(ev(4));
  const pending = take();
  await new Promise(r => setTimeout(r, 150));
  expect(failedReads).toBeGreaterThan(0);
  // Back: the gap (3) is read from the store, then 4 from the live buffer.
  down = false;
  await pending;
  await take();
  stored.push(ev(4), ev(5, 'RESULT'), ev(6, 'STATUS', 'COMPLETED'));
  publish(ev(5, 'RESULT'));
  publish(ev(6, 'STATUS', 'COMPLETED'));
  let r = await take();
  while (!r.done) r = await take();
  expect(got).toEqual([1, 2, 3, 4, 5, 6]);
  expect(handlers.size).toBe(0); // the bus subscription was released at the end
});
