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
  isServiceUnavailable,
  unavailableHttpStatus,
  unavailableOnRedisDown,
} from '../../../src/errors';
import { runWithRequestScope } from '../../../src/request-context';
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

test('PostgreSQL connection failures are UNAVAILABLE too; constraint, statement and closed-pool errors stay INTERNAL', async () => {
  const refused = err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' });
  const acquire = err('Knex: Timeout acquiring a connection. The pool is probably full.');
  const terminated = err('terminating connection due to administrator command', {
    code: '57P01',
  });
  for (const e of [refused, acquire, terminated, err('Connection terminated unexpectedly')]) {
    expect([e.message, isServiceUnavailable(e)]).toEqual([e.message, true]);
    expect(asUnavailable(e)).toBeInstanceOf(AppError);
  }
  // MikroORM wraps the driver error (DriverException with the pg error as `cause`-like fields).
  expect(isServiceUnavailable(err('x', { cause: refused }))).toBe(true);
  for (const e of [
    err('duplicate key value violates unique constraint', { code: '23505' }),
    err('canceling statement due to statement timeout', { code: '57014' }),
    // The app destroyed its own pool (shutdown): a bug if a request gets here, not an outage.
    err('Unable to acquire a connection'),
  ]) {
    expect([e.message, isServiceUnavailable(e)]).toEqual([e.message, false]);
    expect(asUnavailable(e)).toBe(e);
  }

  // pg rejects a refused connect with a plain object; graphql-js wraps it (NonErrorThrown).
  const bare = { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', port: 5432 };
  const wrappedBare = new GraphQLError('Unexpected error value', {
    path: ['job'],
    originalError: Object.assign(new Error('Unexpected error value'), { thrownValue: bare }),
  });
  expect(isServiceUnavailable(wrappedBare)).toBe(true);
  expect(formatError(wrappedBare.toJSON(), wrappedBare).extensions?.code).toBe('UNAVAILABLE');

  // In a context function (user row read while authenticating): 503 + Retry-After.
  const ctx = unavailableOnRedisDown(async () => {
    throw refused;
  });
  const thrown = await ctx().catch((e: unknown) => e as AppError);
  expect(thrown.code).toBe('UNAVAILABLE');
  expect(thrown.extensions.http?.status).toBe(503);
  expect(
    runWithRequestScope(() => formatError(thrown.toJSON(), thrown), 'req-1').extensions,
  ).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5, requestId: 'req-1' });

  // In a resolver: formatError gives UNAVAILABLE with no driver text…
  const resolverError = new GraphQLError(refused.message, {
    path: ['job'],
    originalError: refused,
  });
  const formatted = formatError(resolverError.toJSON(), resolverError);
  expect(formatted.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5 });
  expect(formatted.message).not.toMatch(/ECONNREFUSED|5432/);
  const constraint = new GraphQLError('duplicate key', {
    path: ['register'],
    originalError: err('duplicate key', { code: '23505' }),
  });
  expect(formatError(constraint.toJSON(), constraint).extensions?.code).toBe('INTERNAL');

  // …and the plugin turns the response into HTTP 503 + Retry-After.
  const send = async (errors: GraphQLError[] | undefined) => {
    const response = { http: { status: undefined as number | undefined, headers: new Map() } };
    const listener = await unavailableHttpStatus.requestDidStart!({} as never);
    await listener!.willSendResponse!({ errors, response } as never);
    return response.http;
  };
  const down = await send([resolverError]);
  expect(down.status).toBe(503);
  expect(down.headers.get('retry-after')).toBe('5');
  expect((await send([constraint])).status).toBeUndefined();
  expect((await send(undefined)).status).toBeUndefined();
});
