/**
 * The one error type the SDK throws. GraphQL errors keep the server's `extensions.code`
 * (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, QUOTA_EXCEEDED, RATE_LIMITED,
 * UNAVAILABLE — retry after `retryAfterSeconds` —, INTERNAL); failures before a GraphQL answer get a client-side code (NETWORK_ERROR, HTTP_ERROR,
 * BAD_RESPONSE, UPLOAD_FAILED, DOWNLOAD_FAILED, SUBSCRIPTION_CLOSED, RESULT_CHANGED).
 */

/** A GraphQL error as it arrives over HTTP or WebSocket. */
export interface GraphQLErrorLike {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

export type ClientErrorCode =
  | 'NETWORK_ERROR'
  | 'HTTP_ERROR'
  | 'BAD_RESPONSE'
  | 'UPLOAD_FAILED'
  | 'DOWNLOAD_FAILED'
  | 'SUBSCRIPTION_CLOSED'
  /** A result was replaced (a new attempt) while its pages were being fetched. */
  | 'RESULT_CHANGED';

export class OmicSelectorError extends Error {
  override readonly name = 'OmicSelectorError';
  /** `extensions.code` of the first GraphQL error, or a ClientErrorCode. */
  readonly code: string;
  /** Path of the failing field (`['job']`), when the server named one. */
  readonly path: ReadonlyArray<string | number> | undefined;
  /** Everything else the server put in `extensions` (reason, field, line, requestId …). */
  readonly extensions: Record<string, unknown>;
  /** Every GraphQL error of the response (this error describes the first). */
  readonly errors: readonly GraphQLErrorLike[];
  /** HTTP status, when the error came from an HTTP response. */
  readonly status: number | undefined;
  /** Seconds to wait before retrying (RATE_LIMITED, UNAVAILABLE: the Retry-After header). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: string,
    message: string,
    options: {
      path?: ReadonlyArray<string | number>;
      extensions?: Record<string, unknown>;
      errors?: readonly GraphQLErrorLike[];
      status?: number;
      retryAfterSeconds?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.extensions = options.extensions ?? {};
    this.errors = options.errors ?? [];
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** From a GraphQL `errors` array (non-empty). */
  static fromGraphQL(
    errors: readonly GraphQLErrorLike[],
    http: { status?: number; retryAfter?: string | null } = {},
  ): OmicSelectorError {
    const first = errors[0] ?? { message: 'Unknown GraphQL error' };
    const { code, ...rest } = first.extensions ?? {};
    const retry = Number(http.retryAfter ?? rest.retryAfterSeconds ?? Number.NaN);
    return new OmicSelectorError(typeof code === 'string' ? code : 'INTERNAL', first.message, {
      path: first.path,
      extensions: rest,
      errors,
      status: http.status,
      retryAfterSeconds: Number.isFinite(retry) ? retry : undefined,
    });
  }
}

export function isOmicSelectorError(e: unknown, code?: string): e is OmicSelectorError {
  return e instanceof OmicSelectorError && (code === undefined || e.code === code);
}
