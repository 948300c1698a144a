/**
 * HTTP + WebSocket server on one port: Apollo Server 5 (express5) and graphql-ws share `/graphql`;
 * `/health` (alive) and `/ready` (PostgreSQL, Redis, storage reachable); local-storage presigned
 * URLs under `/objects/`. Shutdown drains HTTP requests and closes WebSocket subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { contextWithLazyEm, type AppServices, type Context } from './context.js';
import {
  AppError,
  asUnavailable,
  formatError,
  isErrorCode,
  isServiceUnavailable,
  unavailableHttpStatus,
  unavailableOnRedisDown,
} from './errors.js';
import {
  characterLimitMiddleware,
  enforcePageSize,
  limitParseOptions,
  limitRules,
  operationPreparer,
  type OperationLimits,
} from './graphql/limits.js';
import { sharedFanOutSubscribe } from './graphql/pubsub.js';
import { buildAppSchema } from './graphql/schema.js';
import { WsCaps } from './graphql/ws-caps.js';
import { graphqlUploadExpress } from './graphql/upload.js';
import { log } from './logger.js';
import { authenticate } from './modules/accounts/authenticate.js';
import { SHARED_FAN_OUT_FIELDS } from './modules/jobs/job.stream.js';
import { currentRequestId, runWithRequestScope } from './request-context.js';
import { LocalStorage } from './storage/local.js';
import { createMetrics, httpObserver, MAYBE_MULTIPART, operationMetrics } from './ops/metrics.js';
import { createRateLimiter, type RateLimiter } from './ops/ratelimit.js';
import { installOpsRoutes } from './ops/routes.js';

export interface HttpApp {
  httpServer: Server;
  schema: GraphQLSchema;
  /** Resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

type ReadyCheck = () => Promise<unknown>;

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each dependency must answer within 2 s; the response lists every check. */
async function readiness(checks: Record<string, ReadyCheck>) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 2000);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, `error: ${err instanceof Error ? err.message : String(err)}`] as const;
      }
    }),
  );
  const ok = entries.every(([, v]) => v === 'ok');
  return { ok, body: { status: ok ? 'ready' : 'not ready', checks: Object.fromEntries(entries) } };
}

/** Reads the credential a graphql-ws client put in `connectionParams`. */
function authHeaderFrom(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

function formatAll(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map(e => formatError(e.toJSON(), e));
}

/** Close code for a socket over the per-user connection cap (1008 Policy Violation: no retry). */
export const WS_CLOSE_TOO_MANY_CONNECTIONS = 1008;
/** Close code when Redis is unreachable (1013 Try Again Later: graphql-ws clients retry it). */
export const WS_CLOSE_TRY_AGAIN = 1013;

/** What the server keeps per graphql-ws connection (keyed by graphql-ws's per-socket context). */
interface SocketState {
  /** `user:<id>` when signed in at connection_init, else `ip:<address>`. */
  key: string;
  /** This socket's id in the cluster-wide cap sets (src/graphql/ws-caps.ts). */
  connId: string;
  userId: string | undefined;
  ip: string | undefined;
  /** Counted against the per-user connection cap (set once onConnect accepted it). */
  counted: boolean;
  /** Ids of this socket's live subscription operations (counted against the per-user cap). */
  subscriptions: Set<string>;
  expiry?: NodeJS.Timeout;
}

export async function createHttpApp(app: AppServices): Promise<HttpApp> {
  const { config, orm, redis, storage } = app;
  // Apollo's hideSchemaDetailsFromClientErrors does not cover graphql-ws: same rule for sockets.
  const hideSuggestions = (message: string) =>
    config.isProduction ? message.replace(/ Did you mean .+\?$/, '') : message;
  const schema = await buildAppSchema(app.pubSub.pubSub);
  enforcePageSize(schema);
  const opLimits: OperationLimits = {
    maxDepth: config.maxQueryDepth,
    maxAliases: config.maxAliases,
    ...config.graphqlLimits,
  };
  const limits = limitRules(opLimits);

  const expressApp = express();
  expressApp.disable('x-powered-by');
  // No ETag on res.send/res.json bodies: GraphQL POSTs are not cacheable, and hashing every
  // response body cost ~1 % of a request's CPU. (Local-storage downloads set their own headers.)
  expressApp.set('etag', false);
  const httpServer = createServer(expressApp);
  const metrics = createMetrics(app);
  const rateLimiter = createRateLimiter(app);

  // First middleware of every request (one function instead of two): the request id — echoed
  // back, attached to logs and to masked errors — and the HTTP metrics.
  const observeHttp = httpObserver(metrics);
  expressApp.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    observeHttp(req, res);
    runWithRequestScope(next, requestId);
  });
  // `/graphql` right after it, as ONE router layer (set once Apollo has started, below): its
  // requests skip matching the other routes and pass no per-middleware router hops.
  const graphqlRoute: { handler?: RequestHandler } = {};
  expressApp.use('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (graphqlRoute.handler) graphqlRoute.handler(req, res, next);
    else next();
  });
  installOpsRoutes(expressApp, app, metrics);

  expressApp.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.get('/ready', async (_req, res) => {
    const { ok, body } = await readiness({
      postgres: () => orm.em.getConnection().execute('select 1'),
      redis: () => redis.ping(),
      storage: () => storage.ping(),
    });
    res.status(ok ? 200 : 503).json(body);
  });
  if (storage instanceof LocalStorage) {
    expressApp.use(storage.router());
  }

  // --- WebSocket (graphql-ws) on the same path ---------------------------------------------
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: config.wsMaxPayloadBytes,
  });
  const sockets = new WeakMap<object, SocketState>();
  const liveStates = new Set<SocketState>();
  /** Open connections and live subscriptions per `SocketState.key`, across all API instances. */
  const caps = new WsCaps(redis);
  const releaseSubscription = (state: SocketState, id: string) => {
    if (state.subscriptions.delete(id)) {
      void caps.release('sub', state.key, `${state.connId}:${id}`);
      metrics.openSubscriptions.dec();
    }
  };
  const tryAgainLater = (socket: { close(code: number, reason: string): void }) =>
    socket.close(WS_CLOSE_TRY_AGAIN, 'Service temporarily unavailable; retry');
  // Validation errors are client input, never internal; AppErrors (rate limit, caps) keep their code.
  const asClientErrors = (errors: readonly GraphQLError[]) =>
    errors.map(e =>
      isErrorCode(e.extensions?.code)
        ? e
        : new GraphQLError(hideSuggestions(e.message), {
            nodes: e.nodes,
            extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' },
          }),
    );
  // Apollo refuses introspection in production (introspection: false); sockets likewise.
  const prepare = operationPreparer(
    schema,
    opLimits,
    asClientErrors,
    config.isProduction ? [NoSchemaIntrospectionCustomRule] : [],
  );

  const serverCleanup = useServer(
    {
      schema,
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      // Each live job event is executed once for all its subscribers, not once per socket.
      subscribe: sharedFanOutSubscribe(SHARED_FAN_OUT_FIELDS),
      onConnect: async ctx => {
        const socket = ctx.extra.socket;
        const ip = ctx.extra.request.socket.remoteAddress;
        let auth;
        try {
          auth = await authenticate(authHeaderFrom(ctx.connectionParams), orm.em.fork(), app);
        } catch (err) {
          // Redis / PostgreSQL unreachable is not a bad credential: 1013, which the client retries.
          if (isServiceUnavailable(err)) tryAgainLater(socket);
          return false; // graphql-ws closes with 4403 Forbidden
        }
        const userId = auth?.user.id;
        const key = userId ? `user:${userId}` : `ip:${ip ?? 'unknown'}`;
        const max = config.ws.maxConnectionsPerUser;
        const connId = caps.newId();
        let admitted: boolean;
        try {
          admitted = await caps.acquire('conn', key, connId, max);
        } catch (err) {
          log.warn('WebSocket refused: connection cap not checkable', { error: String(err) });
          tryAgainLater(socket);
          return false;
        }
        if (!admitted) {
          socket.close(
            WS_CLOSE_TOO_MANY_CONNECTIONS,
            `Too many connections (WS_MAX_CONNECTIONS_PER_USER=${max})`,
          );
          return false;
        }
        if (socket.readyState !== socket.OPEN) {
          // The client left while the slot was being taken: no onClose will come for it.
          void caps.release('conn', key, connId);
          return false;
        }
        const state: SocketState = {
          key,
          connId,
          userId,
          ip,
          counted: true,
          subscriptions: new Set(),
        };
        sockets.set(ctx, state);
        liveStates.add(state);
        if (auth?.expiresAt) {
          // Close the socket when the access token expires; the client reconnects with a new one.
          // (Clamped: setTimeout fires at once for delays above 2^31-1 ms.)
          const ms = Math.min(auth.expiresAt * 1000 - Date.now(), 2 ** 31 - 1);
          state.expiry = setTimeout(
            () => socket.close(4403, 'Access token expired'),
            Math.max(0, ms),
          );
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = sockets.get(ctx);
        if (state) {
          try {
            // The same per-user / per-IP budget as HTTP operations (shared Redis counters).
            await rateLimiter.consume(state.userId, state.ip);
          } catch (e) {
            const mapped = asUnavailable(e);
            if (mapped instanceof AppError) return [mapped];
            throw e;
          }
        }
        const prepared = prepare(payload.query);
        if ('errors' in prepared) {
          return prepared.errors;
        }
        const operation = getOperationAST(prepared.document, payload.operationName);
        if (operation?.operation === 'subscription' && state) {
          const max = config.ws.maxSubscriptionsPerUser;
          let admitted: boolean;
          try {
            admitted = await caps.acquire('sub', state.key, `${state.connId}:${id}`, max);
          } catch (err) {
            log.warn('subscription refused: cap not checkable', { error: String(err) });
            return [AppError.unavailable()];
          }
          if (!admitted) {
            return [
              AppError.quotaExceeded(
                `Too many active subscriptions (WS_MAX_SUBSCRIPTIONS_PER_USER=${max}); complete one first`,
              ),
            ];
          }
          state.subscriptions.add(id);
          metrics.openSubscriptions.inc();
          // The socket closed while the slot was being taken: give it back now.
          if (!state.counted) releaseSubscription(state, id);
        }
        return {
          schema,
          document: prepared.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      onComplete: (ctx, id) => {
        const state = sockets.get(ctx);
        if (state) releaseSubscription(state, id);
      },
      onClose: ctx => {
        const state = sockets.get(ctx);
        if (!state) return;
        clearTimeout(state.expiry);
        for (const id of [...state.subscriptions]) releaseSubscription(state, id);
        if (state.counted) {
          state.counted = false;
          void caps.release('conn', state.key, state.connId);
        }
        liveStates.delete(state);
        sockets.delete(ctx);
      },
      context: async (ctx): Promise<Context> => {
        const context = contextWithLazyEm(
          { requestId: randomUUID(), ip: sockets.get(ctx)?.ip, app },
          orm,
        );
        const em = () => context.em;
        // Re-checked per operation so revoked tokens and deactivated users stop at once.
        const auth = await authenticate(authHeaderFrom(ctx.connectionParams), em, app).catch(
          err => {
            // Redis / PostgreSQL down: not "signed out". 1013 (clients reconnect and resubscribe).
            if (!isServiceUnavailable(err)) return undefined;
            tryAgainLater(ctx.extra.socket);
            throw AppError.unavailable();
          },
        );
        context.auth = auth;
        return context;
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if ('errors' in result && result.errors?.length) {
          const requestId = (args.contextValue as Context | undefined)?.requestId;
          return runWithRequestScope(
            () => ({ ...result, errors: formatAll(result.errors!) as unknown as GraphQLError[] }),
            requestId,
          );
        }
        return undefined;
      },
      // Errors here come from onSubscribe: limits, validation, rate limit, subscription cap.
      onError: (_ctx, _id, _payload, errors) =>
        asClientErrors(errors).map(e =>
          e instanceof AppError ? formatError(e.toJSON(), e) : e.toJSON(),
        ),
    },
    wsServer,
    config.ws.keepAliveMs,
  );
  // graphql-ws answers a socket 'error' (oversized frame, invalid UTF-8, bad framing) with a
  // console.error and a stack per event, which any client can trigger at will. ws has already
  // closed such a socket with the right code (1009, 1007, 1002): log one line instead.
  wsServer.on('connection', socket => {
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) => {
      log.warn('WebSocket closed on a protocol error', { code: err.code, reason: err.message });
    });
  });

  // --- HTTP GraphQL (Apollo) -----------------------------------------------------------------
  const drainWebSockets: ApolloServerPlugin<Context> = {
    async serverWillStart() {
      return {
        async drainServer() {
          await serverCleanup.dispose();
        },
      };
    },
  };
  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // main.ts owns signal handling (it also stops workers, Redis and PostgreSQL, in order).
    stopOnTerminationSignals: false,
    validationRules: limits,
    parseOptions: limitParseOptions(opLimits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      drainWebSockets,
      operationMetrics(metrics),
      unavailableHttpStatus,
      // No field sets cache hints and nothing reads them: skip the per-field cache-control hooks.
      ApolloServerPluginCacheControlDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
  await apollo.start();

  const uploads = graphqlUploadExpress({ maxFileSize: config.maxUploadBytes, maxFiles: 1 });
  const json = express.json({ limit: config.httpBodyLimitBytes });
  const characterLimit = characterLimitMiddleware(opLimits);
  const graphql = expressMiddleware(apollo, {
    // Redis down while authenticating / rate limiting: UNAVAILABLE (503), not INTERNAL (500).
    context: unavailableOnRedisDown(async ({ req }): Promise<Context> => {
      // `ctx.em` is forked when first used: requests served from caches and lean queries need none.
      const ctx = contextWithLazyEm(
        { requestId: currentRequestId() ?? randomUUID(), ip: req.ip, app },
        orm,
      );
      // With a JWT, the deny-list check, the user's auth version (is the cached row current?)
      // and both rate-limit counters are one Redis call. The rate-limit verdict applies only
      // once the token is accepted (a refused one gets its 401 and its counts back).
      const taken: { v?: Awaited<ReturnType<RateLimiter['consumeUnlessDenied']>> } = {};
      let auth;
      try {
        auth = await authenticate(
          req.header('authorization'),
          () => ctx.em,
          app,
          async (deny, version, userId) =>
            (taken.v = await rateLimiter.consumeUnlessDenied(deny, version, userId, req.ip)),
        );
      } catch (err) {
        await taken.v
          ?.undo()
          .catch(e => log.warn('could not return rate-limit counts', { error: String(e) }));
        throw err;
      }
      if (taken.v) taken.v.check();
      else await rateLimiter.consume(auth?.user.id, req.ip);
      ctx.auth = auth;
      return ctx;
    }),
  });
  // The old chain (graphql-upload, express.json, character limit, Apollo) in one function. A
  // content type that can be multipart goes to graphql-upload (whose type-is check decides; for
  // any multipart type express.json would skip the body anyway), anything else to express.json.
  graphqlRoute.handler = (req, res, next) => {
    const type = req.headers['content-type'];
    const parse = type !== undefined && MAYBE_MULTIPART.test(type) ? uploads : json;
    parse(req, res, (err?: unknown) => {
      if (err) next(err);
      else characterLimit(req, res, () => void graphql(req, res, next));
    });
  };

  // Body-parser / multipart errors (too large, malformed): a GraphQL-shaped JSON error.
  expressApp.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status =
      (err as { status?: number }).status ?? (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const message =
        status === 413 ? 'Request body too large' : ((err as Error).message ?? 'Bad request');
      res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
      return;
    }
    const requestId = currentRequestId() ?? 'unknown';
    log.error('unhandled HTTP error', { error: err instanceof Error ? err : String(err) });
    res.status(500).json({
      errors: [
        {
          message: `Internal server error (request id ${requestId})`,
          extensions: { code: 'INTERNAL', requestId },
        },
      ],
    });
  });

  let closed = false;
  return {
    httpServer,
    schema,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    close: async () => {
      if (closed) {
        return;
      }
      closed = true;
      for (const state of liveStates) {
        clearTimeout(state.expiry);
      }
      // apollo.stop() runs the drain plugins: stops accepting, waits for in-flight requests,
      // and disposes graphql-ws (closing sockets with 1001 Going away).
      await apollo.stop();
      await caps.close();
      await new Promise<void>(resolve => wsServer.close(() => resolve()));
      if (httpServer.listening) {
        await new Promise<void>(resolve => httpServer.close(() => resolve()));
      }
    },
  };
}
