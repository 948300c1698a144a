/**
 * Worker-side fault injection for the chaos tests (OMICSELECTOR_FAULT, parsed in src/config.ts and
 * always null when NODE_ENV=production).
 *
 * `pause-before-result`: a finished run stops right before its result write, says so on stderr
 * (`fault injection: pause-before-result (job <id>)`) and waits for SIGUSR2. The test stops
 * PostgreSQL in that window, releases the worker, and restarts the database: the write must then
 * outlast the outage. Timers (BullMQ's lock renewal, heartbeats) keep running while it waits.
 */
let waiting: Array<() => void> = [];
let installed = false;

export function pauseForFaultInjection(jobId: string): Promise<void> {
  if (!installed) {
    installed = true;
    process.on('SIGUSR2', () => {
      const release = waiting;
      waiting = [];
      for (const r of release) r();
    });
  }
  return new Promise(resolve => {
    waiting.push(resolve);
    process.stderr.write(`fault injection: pause-before-result (job ${jobId})\n`);
  });
}
