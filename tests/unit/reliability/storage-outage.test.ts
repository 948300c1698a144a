/**
 * Object storage down (issue 9): the S3 backend turns refused / timed-out connections, DNS
 * failures and 5xx answers (503 SlowDown) into `StorageUnavailableError`; the API formats it as
 * UNAVAILABLE (503 + Retry-After, request id, no driver text), workers classify it TRANSIENT (BullMQ
 * retries the job), and 4xx / not-found answers stay what they were. Real sockets on loopback, no
 * services.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { formatError, isServiceUnavailable, isStorageUnavailable } from '../../../src/errors';
import { runWithRequestScope } from '../../../src/request-context';
import {
  asStorageError,
  isStorageOutage,
  S3Storage,
  StorageUnavailableError,
} from '../../../src/storage';
import { freePort } from '../../../src/services/ports';
import { classify } from '../../../src/workers/compute-child';

const err = (message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), extra);

function s3At(port: number, idleTimeoutMs?: number): S3Storage {
  return new S3Storage(
    {
      kind: 's3',
      endPoint: '127.0.0.1',
      port,
      useSSL: false,
      accessKey: 'k',
      secretKey: 'secret-key',
      bucket: 'test-bucket',
      region: 'us-east-1',
    },
    60,
    undefined,
    idleTimeoutMs,
  );
}

const servers: Server[] = [];
async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise(resolve => s.close(resolve));
  }
});

test('outage errors are recognised; 4xx, not-found and unrelated errors are not', () => {
  for (const e of [
    err('connect ECONNREFUSED 127.0.0.1:9000', { code: 'ECONNREFUSED' }),
    err('getaddrinfo ENOTFOUND s3.invalid', { code: 'ENOTFOUND' }),
    err('idle', { code: 'ETIMEDOUT' }),
    err('Please reduce your request rate.', { code: 'SlowDown' }),
    err('We encountered an internal error. Please try again.', { code: 'InternalError' }),
    err('Request failed after 1 retries: Error: Retryable HTTP status: 503'),
    err('storage PUT failed with HTTP 502: bad gateway', { statusCode: 502 }),
    err('socket hang up'),
    err('wrapped', { cause: err('x', { code: 'ECONNRESET' }) }),
  ])
    expect([e.message, isStorageOutage(e)]).toEqual([e.message, true]);
  for (const e of [
    err('Not Found', { code: 'NotFound' }),
    err('Access Denied', { code: 'AccessDenied' }),
    err('storage PUT failed with HTTP 403', { statusCode: 403 }),
    err('object x is larger than recorded'),
    null,
    'ECONNREFUSED',
  ])
    expect(isStorageOutage(e)).toBe(false);
  const denied = err('Access Denied', { code: 'AccessDenied' });
  expect(asStorageError('get', denied)).toBe(denied);
  const wrapped = asStorageError('get', err('x', { code: 'ECONNREFUSED' }));
  expect(wrapped).toBeInstanceOf(StorageUnavailableError);
  expect(asStorageError('put', wrapped)).toBe(wrapped);
});

test('the API formats a storage outage as UNAVAILABLE with a request id and no driver text', () => {
  const cause = new StorageUnavailableError(
    'get',
    err('connect ECONNREFUSED 10.1.2.3:9000', { code: 'ECONNREFUSED' }),
  );
  const gqlErr = new GraphQLError(cause.message, {
    originalError: cause,
    path: ['datasetPreview'],
  });
  expect(isStorageUnavailable(gqlErr)).toBe(true);
  expect(isServiceUnavailable(gqlErr)).toBe(true);
  const formatted = runWithRequestScope(
    () => formatError({ message: gqlErr.message, path: ['datasetPreview'] }, gqlErr),
    'req-s3',
  );
  expect(formatted.extensions).toEqual({
    code: 'UNAVAILABLE',
    retryAfterSeconds: 5,
    requestId: 'req-s3',
  });
  expect(formatted.message).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|storage/i);
  // A name alone (no code) is not enough: only the storage layer's class counts.
  expect(isStorageUnavailable(err('x', { name: 'StorageUnavailableError' }))).toBe(false);
});

test('workers classify a storage outage as TRANSIENT (BullMQ retries), a missing object as BAD_DATA', () => {
  const down = new StorageUnavailableError('get', err('503', { code: 'SlowDown' }));
  expect(classify(down, false).kind).toBe('TRANSIENT');
  expect(classify(err('object k not found', { name: 'ObjectNotFoundError' }), false).kind).toBe(
    'BAD_DATA',
  );
});

test('S3 backend: refused connection → StorageUnavailableError', async () => {
  const port = await freePort(); // nothing listens here
  const s3 = s3At(port);
  await expect(s3.stat('datasets/x/matrix.bin')).rejects.toBeInstanceOf(StorageUnavailableError);
  await expect(s3.get('datasets/x/matrix.bin')).rejects.toMatchObject({
    code: 'STORAGE_UNAVAILABLE',
    operation: 'get',
  });
  await expect(s3.put('datasets/x/a.bin', Buffer.from('abc'))).rejects.toBeInstanceOf(
    StorageUnavailableError,
  );
});

test('S3 backend: 503 SlowDown and 404 are told apart', async () => {
  let requests = 0;
  const port = await serve((req, res) => {
    requests++;
    if (req.url?.includes('missing')) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>nope</Message></Error>');
      return;
    }
    res.writeHead(503);
    res.end();
  });
  const s3 = s3At(port);
  await expect(s3.stat('datasets/x/matrix.bin')).rejects.toBeInstanceOf(StorageUnavailableError);
  expect(requests).toBeGreaterThanOrEqual(1);
  await expect(s3.stat('datasets/missing/matrix.bin')).resolves.toBeNull();
});

test('S3 backend: a server that never answers times out (ETIMEDOUT) instead of hanging', async () => {
  const port = await serve(() => undefined); // accepts, never responds
  const s3 = s3At(port, 300);
  const e = await s3.stat('datasets/x/matrix.bin').catch((x: unknown) => x);
  expect(e).toBeInstanceOf(StorageUnavailableError);
  expect(String((e as Error).message)).toMatch(/ETIMEDOUT/);
});
