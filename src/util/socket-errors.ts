/**
 * Node socket error codes that mean "the server is unreachable / the connection broke": transient,
 * worth retrying. Shared by the outage classifiers of the API (src/errors.ts) and of object
 * storage (src/storage/storage.ts).
 */
export const UNREACHABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
