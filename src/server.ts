/**
 * HTTP + WebSocket server on one port: Apollo Server 5 (express5) and graphql-ws share `/graphql`;
 * `/health` (alive) and `/ready` (PostgreSQL, Redis, storage reachable); local-storage presigned
 * URLs under `/objects/`. Shutdown drains HTTP requests and closes WebSocket subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  GraphQLError,
  specifiedRules,
  validate,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { AppServices, Context } from './context.js';
import { formatError } from './errors.js';
import { aliasLimitRule, depthLimitRule } from './graphql/limits.js';
import { buildAppSchema } from './graphql/schema.js';
import { graphqlUploadExpress } from './graphql/upload.js';
import { log } from './logger.js';
import { authenticate } from './modules/accounts/authenticate.js';
import { currentRequestId, runWithRequestScope } from './request-context.js';
import { LocalStorage } from './storage/local.js';
import { createMetrics, httpMetrics, operationMetrics } from './ops/metrics.js';
import { createRateLimiter } from './ops/ratelimit.js';
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

export async function createHttpApp(app: AppServices): Promise<HttpApp> {
  const { config, orm, redis, storage } = app;
  // Apollo's hideSchemaDetailsFromClientErrors does not cover graphql-ws: same rule for sockets.
  const hideSuggestions = (message: string) =>
    config.isProduction ? message.replace(/ Did you mean .+\?$/, '') : message;
  const schema = await buildAppSchema(app.pubSub.pubSub);
  const limits = [depthLimitRule(config.maxQueryDepth), aliasLimitRule(config.maxAliases)];

  const expressApp = express();
  expressApp.disable('x-powered-by');
  const httpServer = createServer(expressApp);
  const metrics = createMetrics(app);
  const rateLimiter = createRateLimiter(app);

  // Request id: echoed back, attached to logs and to masked errors.
  expressApp.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    runWithRequestScope(() => next(), requestId);
  });
  expressApp.use(httpMetrics(metrics));
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
  const expiryTimers = new Map<object, NodeJS.Timeout>();
  const serverCleanup = useServer(
    {
      schema,
      // graphql-ws does not run Apollo's validation rules: apply the same limits here.
      validate: (s, document) => validate(s, document, [...specifiedRules, ...limits]),
      onConnect: async ctx => {
        try {
          const auth = await authenticate(authHeaderFrom(ctx.connectionParams), orm.em.fork(), app);
          if (auth?.expiresAt) {
            // Close the socket when the access token expires; the client reconnects with a new one.
            const ms = auth.expiresAt * 1000 - Date.now();
            const socket = ctx.extra.socket;
            expiryTimers.set(
              ctx,
              setTimeout(() => socket.close(4403, 'Access token expired'), Math.max(0, ms)),
            );
          }
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: () => {
        metrics.openSubscriptions.inc();
      },
      onComplete: () => {
        metrics.openSubscriptions.dec();
      },
      onClose: ctx => {
        clearTimeout(expiryTimers.get(ctx));
        expiryTimers.delete(ctx);
      },
      context: async (ctx): Promise<Context> => {
        const em = orm.em.fork();
        // Re-checked per operation so revoked tokens and deactivated users stop at once.
        const auth = await authenticate(authHeaderFrom(ctx.connectionParams), em, app).catch(
          () => undefined,
        );
        return { requestId: randomUUID(), em, auth, app };
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
      // Errors here come from parsing/validating the operation: client input, never internal.
      onError: (_ctx, _id, _payload, errors) =>
        errors.map(
          e =>
            new GraphQLError(hideSuggestions(e.message), {
              nodes: e.nodes,
              extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' },
            }),
        ),
    },
    wsServer,
  );

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
    parseOptions: { maxTokens: 10_000 },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      drainWebSockets,
      operationMetrics(metrics),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
  await apollo.start();

  expressApp.use(
    '/graphql',
    graphqlUploadExpress({ maxFileSize: config.maxUploadBytes, maxFiles: 1 }),
    express.json({ limit: config.httpBodyLimitBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<Context> => {
        const em = orm.em.fork();
        const auth = await authenticate(req.header('authorization'), em, app);
        await rateLimiter.consume(auth?.user.id, req.ip);
        return { requestId: currentRequestId() ?? randomUUID(), em, auth, ip: req.ip, app };
      },
    }),
  );

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
      for (const t of expiryTimers.values()) {
        clearTimeout(t);
      }
      // apollo.stop() runs the drain plugins: stops accepting, waits for in-flight requests,
      // and disposes graphql-ws (closing sockets with 1001 Going away).
      await apollo.stop();
      await new Promise<void>(resolve => wsServer.close(() => resolve()));
      if (httpServer.listening) {
        await new Promise<void>(resolve => httpServer.close(() => resolve()));
      }
    },
  };
}
