/**
 * `npm run load` in its tiny mode (10 subscribers, 1-second phases) against this run's PostgreSQL
 * and Redis: the script must finish, print its table, and produce numbers for all three
 * measurements. No timing thresholds here (the machine is shared): only that the figures exist
 * and that the functional checks hold — every event reached every subscriber and every
 * acknowledged job is in the database and in its queue.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl, testEnv } from '../helpers/env';
import { ensureBuilt } from '../helpers/worker';

const ROOT = join(__dirname, '..', '..');
const RUN = join(ROOT, 'dist', 'scripts', 'load', 'run.js');

jest.setTimeout(420_000);

/** ensureBuilt() watches src/, compute/ and migrations/; the load scripts need their own check. */
function ensureLoadBuilt(): void {
  const dir = join(ROOT, 'scripts', 'load');
  const newest = Math.max(...readdirSync(dir).map(f => statSync(join(dir, f)).mtimeMs));
  if (existsSync(RUN) && statSync(RUN).mtimeMs >= newest) return;
  spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--incremental',
      '--tsBuildInfoFile',
      join(tmpdir(), 'omicselector-load-build.tsbuildinfo'),
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  if (!existsSync(RUN)) throw new Error('build did not produce dist/scripts/load/run.js');
}

interface Report {
  query: {
    ours: { rps: number; p50: number; p99: number };
    bare: { rps: number; p50: number; p99: number };
    ratio: number;
  };
  fanOut: { ready: number; subscribers: number; delivered: number; expected: number; p95: number };
  submit: { rate: number; acknowledged: number; inDb: number; inQueue: number; failed: number };
  table: string;
}

test('npm run load -- --tiny prints the table with all three measurements', async () => {
  await ensureBuilt();
  ensureLoadBuilt();
  const json = join(testEnv().tmpDir, `load-${randomBytes(4).toString('hex')}.json`);
  const env = {
    ...process.env,
    LOAD_DATABASE_URL: databaseUrl(`load_${randomBytes(4).toString('hex')}`),
    LOAD_REDIS_URL: testEnv().redisUrl,
  };
  const child = spawn(process.execPath, [RUN, '--tiny', '--json', json], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load script exited ${code}:\n${stderr.slice(-3000)}`);

  // The table: header, and one row per measurement with a PASS/MISS verdict.
  expect(stdout).toContain('| measurement');
  for (const row of ['(a) ours / bare throughput', '(b) fan-out', '(c) submitJob rate']) {
    expect(stdout).toMatch(
      new RegExp(`\\| ${row.replace(/[()/]/g, '\\$&')}[^\\n]*\\| (PASS|MISS) +\\|`),
    );
  }

  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const positive = (v: number) => {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(0);
  };
  // (a) both endpoints served the query; throughput, latency and their ratio are numbers.
  for (const side of [report.query.ours, report.query.bare]) {
    positive(side.rps);
    positive(side.p50);
    positive(side.p99);
  }
  positive(report.query.ratio);
  // (b) every subscriber got every event; the latency percentile is a number.
  expect(report.fanOut.ready).toBe(report.fanOut.subscribers);
  expect(report.fanOut.delivered).toBe(report.fanOut.expected);
  positive(report.fanOut.expected);
  positive(report.fanOut.p95);
  // (c) submits were acknowledged, and each one is in PostgreSQL and in its BullMQ queue.
  positive(report.submit.rate);
  expect(report.submit.failed).toBe(0);
  expect(report.submit.inDb).toBe(report.submit.acknowledged);
  expect(report.submit.inQueue).toBe(report.submit.acknowledged);
  expect(stdout).toContain(report.table);
});
