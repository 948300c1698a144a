/**
 * Minimal structured logger: one JSON line per event on stderr in production, a readable line
 * otherwise. Never pass secrets (passwords, tokens, keys) in `fields`.
 */
import { currentJobId, currentRequestId } from './request-context.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Read per call (cheap) so LOG_LEVEL / LOG_FORMAT set after import still apply.
const useJson = () => process.env.NODE_ENV === 'production' || process.env.LOG_FORMAT === 'json';
const minLevel = () => LEVELS[process.env.LOG_LEVEL as Level] ?? LEVELS.info;

function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

function write(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS[level] < minLevel()) {
    return;
  }
  const requestId = currentRequestId();
  const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
  if (requestId) {
    entry.requestId = requestId;
  }
  const jobId = currentJobId();
  if (jobId && !('jobId' in fields)) {
    entry.jobId = jobId;
  }
  for (const [k, v] of Object.entries(fields)) {
    entry[k] = serialize(v);
  }
  if (useJson()) {
    process.stderr.write(JSON.stringify(entry) + '\n');
    return;
  }
  const extra = Object.entries(fields)
    .map(([k, v]) => {
      const s = serialize(v);
      return `${k}=${typeof s === 'string' ? s : JSON.stringify(s)}`;
    })
    .join(' ');
  process.stderr.write(
    `${entry.time} ${level.toUpperCase()} ${msg}${requestId ? ` [${requestId}]` : ''}${extra ? ' ' + extra : ''}\n`,
  );
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
