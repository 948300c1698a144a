/**
 * All stored events of a job through `jobEvents`, paging with `afterSeq` (the server answers at
 * most 100 per request), as a client has to. Checks the paging contract on every page: seqs
 * strictly increase and start after `afterSeq` (a page repeating itself would otherwise loop here
 * forever, and a reordered page would pass unnoticed).
 */
import { type TestApp } from './app';
import { gqlOk, type EventView } from './worker';

export async function allJobEvents(
  t: TestApp,
  token: string,
  jobId: string,
  afterSeq = 0,
): Promise<EventView[]> {
  const all: EventView[] = [];
  let after = afterSeq;
  for (;;) {
    const { jobEvents } = await gqlOk<{ jobEvents: EventView[] }>(
      t,
      'JobEvents',
      { jobId, afterSeq: after, first: 100 },
      token,
    );
    let last = after;
    for (const e of jobEvents) {
      expect(e.seq).toBeGreaterThan(last);
      last = e.seq;
    }
    all.push(...jobEvents);
    if (jobEvents.length < 100) return all;
    after = jobEvents.at(-1)!.seq;
  }
}
