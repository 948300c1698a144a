/**
 * The one closed set of error codes clients see in `extensions.code`, the error class services
 * throw, and `formatError`, which lets only those through and masks everything else.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from 'type-graphql';
import { log } from './logger.js';
import { currentRequestId } from './request-context.js';
import { UNREACHABLE_SOCKET_CODES } from './util/socket-errors.js';

export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  /** A backing service (Redis, PostgreSQL, object storage) is unreachable: retry after `retryAfterSeconds` (HTTP 503). */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CODES = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

interface HttpHead {
  status?: number;
  headers?: Map<string, string>;
}

/**
 * An error whose message is safe to show to the client. `extensions.http` (status/headers) is
 * read by Apollo Server and stripped from the response.
 */
export class AppError extends GraphQLError {
  declare readonly extensions: { code: ErrorCode; http?: HttpHead; [key: string]: unknown };

  constructor(
    code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
    http?: HttpHead,
  ) {
    super(message, { extensions: { ...extra, code, ...(http ? { http } : {}) } });
    this.name = 'AppError';
  }

  get code(): ErrorCode {
    return this.extensions.code;
  }

  /** Missing, invalid, expired or revoked credentials. Always HTTP 401. */
  static unauthenticated(message = 'Authentication required'): AppError {
    return new AppError(ErrorCode.UNAUTHENTICATED, message, {}, { status: 401 });
  }

  static forbidden(message = 'You are not allowed to do this'): AppError {
    return new AppError(ErrorCode.FORBIDDEN, message);
  }

  /** Also used for objects that exist but belong to someone else (no existence oracle). */
  static notFound(what = 'Object', id?: string): AppError {
    return new AppError(ErrorCode.NOT_FOUND, id ? `${what} ${id} not found` : `${what} not found`);
  }

  static badInput(message: string, field?: string): AppError {
    return new AppError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
  }

  static conflict(message: string, field?: string): AppError {
    return new AppError(ErrorCode.CONFLICT, message, field ? { field } : {});
  }

  static quotaExceeded(message: string): AppError {
    return new AppError(ErrorCode.QUOTA_EXCEEDED, message);
  }

  static rateLimited(message: string, retryAfterSeconds?: number): AppError {
    const headers = new Map<string, string>();
    if (retryAfterSeconds !== undefined) {
      headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
    }
    return new AppError(
      ErrorCode.RATE_LIMITED,
      message,
      retryAfterSeconds !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterSeconds) } : {},
      { status: 429, headers },
    );
  }

  /**
   * Redis (sessions, rate limits, queues, pub/sub) or PostgreSQL (connection refused, terminated,
   * pool acquire timeout) is unreachable: a transient condition the
   * client should retry, not an INTERNAL bug. HTTP 503 with Retry-After.
   */
  static unavailable(retryAfterSeconds = UNAVAILABLE_RETRY_SECONDS): AppError {
    const headers = new Map([['retry-after', String(retryAfterSeconds)]]);
    return new AppError(
      ErrorCode.UNAVAILABLE,
      `Service temporarily unavailable; retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
      { status: 503, headers },
    );
  }

  /** An expected internal failure whose text must not leak; formatError masks it. */
  static internal(message = 'Internal server error'): AppError {
    return new AppError(ErrorCode.INTERNAL, message);
  }
}

/** The retry hint of UNAVAILABLE errors (ioredis reconnects within ~5 s of Redis returning). */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** ioredis / BullMQ messages of a command that could not reach Redis. */
const REDIS_DOWN_MESSAGE =
  /^Connection is closed\.?$|Reached the max retries per request limit|Stream isn't writeable and enableOfflineQueue options is false|^Connection in subscriber mode|^Redis connection lost/;

/**
 * True when `err` (or an error it wraps: `cause`, GraphQLError `originalError`) is a Redis
 * connection failure: ioredis's MaxRetriesPerRequestError (maxRetriesPerRequest reached while
 * disconnected), "Connection is closed." (the client gave up or was closed), or a command refused
 * because the offline queue is off.
 */
export function isRedisUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { name?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && REDIS_DOWN_MESSAGE.test(e.message)) return true;
  return isRedisUnavailable(e.originalError, depth + 1) || isRedisUnavailable(e.cause, depth + 1);
}

/**
 * PostgreSQL SQLSTATEs of an unusable connection: class 08 (connection exception), 57P01–57P03
 * (admin / crash shutdown, cannot connect now: restarting), 53300 (too many connections).
 */
const PG_CONNECTION_STATE = /^(08...|57P0[123]|53300)$/;

/** Driver and pool messages without a code (pg, knex/tarn). */
const DB_CONNECTION_MESSAGE =
  /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|Connection ended unexpectedly|Client was closed and is not queryable|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

/**
 * True when `err` (or its cause / aggregated errors / GraphQLError `originalError` / graphql-js
 * `thrownValue`) is a lost or
 * refused database connection — transient, worth retrying — and false for everything else
 * (constraints, syntax, a statement's own timeout 57014, a pool destroyed by shutdown).
 */
export function isDbConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    originalError?: unknown;
    thrownValue?: unknown;
  };
  if (
    typeof e.code === 'string' &&
    (UNREACHABLE_SOCKET_CODES.has(e.code) || PG_CONNECTION_STATE.test(e.code))
  )
    return true;
  if (typeof e.message === 'string' && DB_CONNECTION_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some(x => isDbConnectionError(x, depth + 1))) return true;
  return (
    isDbConnectionError(e.originalError, depth + 1) ||
    isDbConnectionError(e.cause, depth + 1) ||
    // pg rejects a refused connect with the bare socket error object, which graphql-js wraps in a
    // NonErrorThrown (`thrownValue`).
    isDbConnectionError(e.thrownValue, depth + 1)
  );
}

/**
 * True when `err` (or what it wraps) is the storage layer's `StorageUnavailableError`: the object
 * store was unreachable or answered a transient 5xx (src/storage classifies the driver errors;
 * matched by name so this module does not import the storage backends).
 */
export function isStorageUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    name?: unknown;
    code?: unknown;
    cause?: unknown;
    originalError?: unknown;
    thrownValue?: unknown;
  };
  if (e.name === 'StorageUnavailableError' && e.code === 'STORAGE_UNAVAILABLE') return true;
  return (
    isStorageUnavailable(e.originalError, depth + 1) ||
    isStorageUnavailable(e.cause, depth + 1) ||
    isStorageUnavailable(e.thrownValue, depth + 1)
  );
}

/**
 * A backing service the request needs is unreachable (Redis, PostgreSQL's connection — not
 * its constraint or statement errors — or the object store): the client should retry, it is not
 * an INTERNAL bug.
 */
export function isServiceUnavailable(err: unknown): boolean {
  return isRedisUnavailable(err) || isStorageUnavailable(err) || isDbConnectionError(err);
}

/** Which service an outage error is about, for the log line (never sent to the client). */
function outageService(...errs: unknown[]): string {
  if (errs.some(e => isRedisUnavailable(e))) return 'Redis';
  if (errs.some(e => isStorageUnavailable(e))) return 'object storage';
  // A bare socket error (ECONNRESET …) can come from PostgreSQL or from a storage stream that
  // broke mid-transfer: name the database only when the error says so.
  if (errs.some(e => hasDbSign(e))) return 'database';
  return 'database or object storage (socket error)';
}

/** A PostgreSQL SQLSTATE or pg/knex connection message somewhere in `err`'s chain. */
function hasDbSign(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
  if (typeof e.code === 'string' && PG_CONNECTION_STATE.test(e.code)) return true;
  if (typeof e.message === 'string' && DB_CONNECTION_MESSAGE.test(e.message)) return true;
  return hasDbSign(e.originalError, depth + 1) || hasDbSign(e.cause, depth + 1);
}

/** `AppError.unavailable()` for a Redis, PostgreSQL or object-storage outage, else `err` unchanged. */
export function asUnavailable(err: unknown): unknown {
  return isServiceUnavailable(err) ? AppError.unavailable() : err;
}

/**
 * Wraps an Apollo/graphql-ws context function: a Redis or PostgreSQL outage while authenticating
 * or counting rate limits becomes UNAVAILABLE (HTTP 503 + Retry-After) instead of "Context
 * creation failed" (HTTP 500, INTERNAL).
 */
export function unavailableOnRedisDown<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw asUnavailable(err);
    }
  };
}

/**
 * Apollo plugin: an operation whose resolver hit an unreachable Redis, PostgreSQL or object store
 * (or threw `AppError.unavailable()`) answers HTTP 503 + Retry-After, like one that failed while authenticating (formatError gives the errors the
 * UNAVAILABLE code; Apollo would otherwise send them with 200).
 */
export const unavailableHttpStatus: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ errors, response }) {
        const down = (e: GraphQLError) =>
          e.extensions?.code === ErrorCode.UNAVAILABLE || isServiceUnavailable(e);
        if (!errors?.some(down)) return;
        response.http.status = 503;
        response.http.headers.set('retry-after', String(UNAVAILABLE_RETRY_SECONDS));
      },
    };
  },
};

/** Apollo / graphql-js request errors (parse, validation, variables) → BAD_USER_INPUT + reason. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'INTROSPECTION_DISABLED',
  'MAX_RECURSIVE_SELECTIONS_EXCEEDED',
]);

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

/** class-validator errors carry `target` and `value` (e.g. the rejected password): drop them. */
function sanitizeValidationErrors(errors: ValidationErrorLike[]): unknown[] {
  return errors.map(e => ({
    property: e.property,
    constraints: e.constraints,
    ...(e.children?.length ? { children: sanitizeValidationErrors(e.children) } : {}),
  }));
}

function withCode(
  formatted: GraphQLFormattedError,
  code: ErrorCode,
  extensions: Record<string, unknown> = {},
  message = formatted.message,
): GraphQLFormattedError {
  return {
    message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { ...extensions, code },
  };
}

/**
 * Apollo `formatError`: known errors keep their message and code; anything else becomes INTERNAL
 * with a request id the operator can find in the logs (no stack, no driver text).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const ext = formatted.extensions ?? {};
  const code = ext.code;

  if (original instanceof AppError) {
    if (original.code === ErrorCode.INTERNAL) {
      return maskInternal(formatted, original);
    }
    const { http: _http, stacktrace: _st, ...rest } = ext;
    if (original.code === ErrorCode.UNAVAILABLE) {
      // Like a masked error: the operator can find the outage's log lines by this id.
      return withCode(formatted, original.code, {
        ...rest,
        requestId: currentRequestId() ?? 'unknown',
      });
    }
    return withCode(formatted, original.code, rest);
  }
  if (original instanceof ArgumentValidationError) {
    return withCode(formatted, ErrorCode.BAD_USER_INPUT, {
      validationErrors: sanitizeValidationErrors(original.extensions.validationErrors),
    });
  }
  // type-graphql's own auth errors (when a resolver uses @Authorized without our authChecker throwing).
  if (original instanceof AuthenticationError) {
    return withCode(formatted, ErrorCode.UNAUTHENTICATED);
  }
  if (original instanceof AuthorizationError) {
    return withCode(formatted, ErrorCode.FORBIDDEN);
  }
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
    return withCode(formatted, ErrorCode.BAD_USER_INPUT, { reason: code });
  }
  if (isErrorCode(code) && code !== ErrorCode.INTERNAL && original instanceof GraphQLError) {
    // A GraphQLError built elsewhere with one of our codes: its author chose a client-safe text.
    return withCode(formatted, code);
  }
  if (isServiceUnavailable(original) || isServiceUnavailable(error)) {
    // Transient: tell the client to retry (logged once per operation, without the driver text).
    const requestId = currentRequestId() ?? 'unknown';
    const service = outageService(original, error);
    log.warn(`operation failed: ${service} unreachable`, {
      requestId,
      path: formatted.path?.join('.'),
    });
    return withCode(
      formatted,
      ErrorCode.UNAVAILABLE,
      { retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS, requestId },
      `Service temporarily unavailable; retry in ${UNAVAILABLE_RETRY_SECONDS} s (request id ${requestId})`,
    );
  }
  return maskInternal(formatted, original);
}

function maskInternal(formatted: GraphQLFormattedError, original: unknown): GraphQLFormattedError {
  const requestId = currentRequestId() ?? 'unknown';
  log.error('unhandled error in GraphQL operation', {
    requestId,
    path: formatted.path?.join('.'),
    error: original instanceof Error ? original : String(original),
  });
  return withCode(
    formatted,
    ErrorCode.INTERNAL,
    { requestId },
    `Internal server error (request id ${requestId})`,
  );
}
