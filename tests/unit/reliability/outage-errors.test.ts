/**
 * Which failures count as "a backing service is unreachable" (issue 9): database connection
 * errors are retried by the worker's result write (src/workers/result-write.ts) while constraint
 * and statement errors are not; Redis connection errors become UNAVAILABLE (HTTP 503, retry hint)
 * instead of a masked INTERNAL.
 */
import { GraphQLError } from 'graphql';
import {
  AppError,
  asUnavailable,
  formatError,
  isRedisUnavailable,
  unavailableOnRedisDown,
} from '../../../src/errors';
import { isDbConnectionError, retryOnConnectionError } from '../../../src/workers/result-write';

const err = (message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), extra);

test('database connection errors are retryable; constraint, syntax and timeout errors are not', () => {
  for (const e of [
    err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
    err('read ECONNRESET', { code: 'ECONNRESET' }),
    err('Connection terminated unexpectedly'),
    err('terminating connection due to administrator command', { code: '57P01' }),
    err('the database system is starting up', { code: '57P03' }),
    err('connection failure', { code: '08006' }),
    err('Knex: Timeout acquiring a connection. The pool is probably full.'),
    Object.assign(new AggregateError([err('x', { code: 'ECONNREFUSED' })], ''), {}),
    err('wrapped', { cause: err('boom', { code: 'EPIPE' }) }),
  ])
    expect([e.message, isDbConnectionError(e)]).toEqual([e.message, true]);
  for (const e of [
    err('duplicate key value violates unique constraint', { code: '23505' }),
    err('syntax error at or near "SELEC"', { code: '42601' }),
    err('canceling statement due to statement timeout', { code: '57014' }),
    err('something else'),
    null,
    'ECONNREFUSED',
  ])
    expect(isDbConnectionError(e)).toBe(false);
});

test('retryOnConnectionError: retries connection errors, rethrows others at once, respects the budget', async () => {
  let calls = 0;
  const flaky = () =>
    ++calls < 3
      ? Promise.reject(err('connect ECONNREFUSED', { code: 'ECONNREFUSED' }))
      : Promise.resolve('ok');
  expect(await retryOnConnectionError(flaky, { retryMs: 5000, initialDelayMs: 1 })).toBe('ok');
  expect(calls).toBe(3);

  calls = 0;
  const constraint = () => {
    calls++;
    return Promise.reject(err('duplicate key', { code: '23505' }));
  };
  await expect(retryOnConnectionError(constraint, { retryMs: 5000 })).rejects.toThrow('duplicate');
  expect(calls).toBe(1);

  calls = 0;
  const down = () => {
    calls++;
    return Promise.reject(err('Connection terminated unexpectedly'));
  };
  await expect(retryOnConnectionError(down, { retryMs: 0 })).rejects.toThrow('terminated');
  expect(calls).toBe(1);

  // An aborted signal (worker shutdown) stops the retries.
  calls = 0;
  const ac = new AbortController();
  ac.abort();
  await expect(
    retryOnConnectionError(down, { retryMs: 60_000, signal: ac.signal }),
  ).rejects.toThrow('terminated');
  expect(calls).toBe(1);
});

test('Redis connection failures are recognised, also wrapped; other errors are not', () => {
  const maxRetries = Object.assign(
    new Error(
      'Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.',
    ),
    { name: 'MaxRetriesPerRequestError' },
  );
  expect(isRedisUnavailable(maxRetries)).toBe(true);
  expect(isRedisUnavailable(err('Connection is closed.'))).toBe(true);
  expect(
    isRedisUnavailable(err("Stream isn't writeable and enableOfflineQueue options is false")),
  ).toBe(true);
  // Apollo wraps context failures: "Context creation failed: …" with originalError.
  expect(
    isRedisUnavailable(
      new GraphQLError('Context creation failed: Connection is closed.', {
        originalError: err('Connection is closed.'),
      }),
    ),
  ).toBe(true);
  expect(isRedisUnavailable(err('x', { cause: maxRetries }))).toBe(true);
  expect(isRedisUnavailable(err('duplicate key'))).toBe(false);
  expect(isRedisUnavailable(err('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
  expect(asUnavailable(err('nope'))).toBeInstanceOf(Error);
  expect(asUnavailable(maxRetries)).toBeInstanceOf(AppError);
});

test('UNAVAILABLE: HTTP 503 with Retry-After from a context function; the code survives formatError', async () => {
  const wrapped = unavailableOnRedisDown(async () => {
    throw err('Connection is closed.');
  });
  const thrown = await wrapped().catch((e: unknown) => e as AppError);
  expect(thrown).toBeInstanceOf(AppError);
  expect(thrown.code).toBe('UNAVAILABLE');
  expect(thrown.extensions.http?.status).toBe(503);
  expect(thrown.extensions.http?.headers?.get('retry-after')).toBe('5');
  expect(formatError(thrown.toJSON(), thrown)).toMatchObject({
    extensions: { code: 'UNAVAILABLE', retryAfterSeconds: 5 },
  });
  // Other errors pass through unchanged.
  const other = unavailableOnRedisDown(async () => {
    throw err('bad token');
  });
  await expect(other()).rejects.toThrow('bad token');

  // A resolver that hit a Redis outage: UNAVAILABLE with a request id, no driver text.
  const resolverError = new GraphQLError('Connection is closed.', {
    path: ['submitJob'],
    originalError: err('Connection is closed.'),
  });
  const formatted = formatError(resolverError.toJSON(), resolverError);
  expect(formatted.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5 });
  expect(formatted.message).not.toMatch(/Connection is closed/);
  // Everything else is still masked as INTERNAL.
  const bug = new GraphQLError('TypeError: x is undefined', {
    path: ['me'],
    originalError: err('x is undefined'),
  });
  expect(formatError(bug.toJSON(), bug).extensions?.code).toBe('INTERNAL');
});
