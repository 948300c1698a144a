/**
 * Child process of `npm run load`: serves ONE GraphQL endpoint and reports its port over IPC.
 *
 *   node dist/scripts/load/server.js api    the real app (startApp: ORM, Redis, storage, pub/sub,
 *                                           rate limiter, metrics…) configured from the environment
 *                                           plus LOAD_DATABASE_URL / LOAD_REDIS_URL; no workers
 *   node dist/scripts/load/server.js bare   the baseline: the same express 5 + Apollo Server 5
 *                                           stack and the same HS256 JWT verification (TokenSigner),
 *                                           trivial resolvers, no database, no Redis
 *
 * Each server runs in its own process so the load generator's event loop never competes with it,
 * and so its CPU time can be read from /proc. The parent stops it with the IPC message 'stop'.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError } from 'graphql';
import { startApp } from '../../src/app';
import { parseConfig } from '../../src/config';
import { TokenSigner, type AccessClaims } from '../../src/modules/accounts/tokens';

export interface ServerReady {
  kind: 'ready';
  port: number;
}

/** `--profile`: the parent brackets each measured window with these (CPU profile to `file`). */
export interface ProfileCommand {
  kind: 'profile';
  action: 'start' | 'stop';
  file?: string;
}

let session: Session | undefined;

function post(method: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session!.post(method, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

async function profile(cmd: ProfileCommand): Promise<void> {
  if (cmd.action === 'start') {
    if (!session) {
      session = new Session();
      session.connect();
      await post('Profiler.enable');
    }
    await post('Profiler.start');
  } else if (session) {
    const { profile: data } = (await post('Profiler.stop')) as { profile: unknown };
    if (cmd.file) writeFileSync(cmd.file, JSON.stringify(data));
  }
  process.send?.({ kind: 'profiled', action: cmd.action });
}

/** Same shape as the real schema's `me` and `datasets`, so the load query runs unchanged. */
const BARE_TYPE_DEFS = `#graphql
  enum Role { USER RESEARCHER ADMIN }
  type User { id: ID! email: String! username: String! role: Role! }
  type Dataset { id: ID! name: String! status: String! sampleCount: Int featureCount: Int }
  type DatasetEdge { cursor: String! node: Dataset! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type DatasetConnection { edges: [DatasetEdge!]! pageInfo: PageInfo! totalCount: Int! }
  type Query { me: User! datasets(first: Int! = 20, after: String): DatasetConnection! }
`;

interface BareContext {
  claims?: AccessClaims;
}

/** Ten fixed datasets: the same response size as the load user's real page. */
function bareDatasets(first: number) {
  const nodes = Array.from({ length: Math.min(first, 10) }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `load dataset ${i}`,
    status: 'READY',
    sampleCount: 20,
    featureCount: 8,
  }));
  return {
    edges: nodes.map(node => ({ cursor: Buffer.from(node.id).toString('base64url'), node })),
    pageInfo: { hasNextPage: false, endCursor: null },
    totalCount: nodes.length,
  };
}

async function startBare(): Promise<{ port: number; close(): Promise<void> }> {
  const secret = process.env.JWT_SECRET;
  if (!secret) throw new Error('JWT_SECRET is required');
  const signer = new TokenSigner(secret, 900);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  const unauthenticated = () =>
    new GraphQLError('Authentication required', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  const apollo = new ApolloServer<BareContext>({
    typeDefs: BARE_TYPE_DEFS,
    resolvers: {
      Query: {
        me: (_root: unknown, _args: unknown, ctx: BareContext) => {
          if (!ctx.claims) throw unauthenticated();
          return {
            id: ctx.claims.sub,
            email: 'load@example.org',
            username: 'load',
            role: 'USER',
          };
        },
        datasets: (_root: unknown, args: { first: number }, ctx: BareContext) => {
          if (!ctx.claims) throw unauthenticated();
          return bareDatasets(args.first);
        },
      },
    },
    introspection: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();
  app.use(
    '/graphql',
    express.json({ limit: 1024 * 1024 }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<BareContext> => {
        const header = req.header('authorization');
        const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
        if (!m) return {};
        try {
          return { claims: await signer.verify(m[1]!) };
        } catch {
          throw unauthenticated();
        }
      },
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve((httpServer.address() as AddressInfo).port));
  });
  return { port, close: () => apollo.stop() };
}

async function startApi(): Promise<{ port: number; close(): Promise<void> }> {
  const databaseUrl = process.env.LOAD_DATABASE_URL;
  const redisUrl = process.env.LOAD_REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('LOAD_DATABASE_URL and LOAD_REDIS_URL required');
  const parsed = parseConfig(process.env);
  if (!parsed.ok) throw new Error(`bad config:\n${parsed.errors.join('\n')}`);
  const pool = Number(process.env.LOAD_DB_POOL_MAX);
  const app = await startApp(parsed.config, {
    databaseUrl,
    redisUrl,
    dbPoolMax: pool > 0 ? pool : undefined,
  });
  return { port: app.port, close: () => app.close() };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'api' && mode !== 'bare') throw new Error('usage: server.js api|bare');
  const server = mode === 'api' ? await startApi() : await startBare();
  const stop = async () => {
    await server.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', msg => {
    if (msg === 'stop') void stop();
    else if ((msg as ProfileCommand)?.kind === 'profile') void profile(msg as ProfileCommand);
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  const ready: ServerReady = { kind: 'ready', port: server.port };
  process.send?.(ready);
}

main().catch(err => {
  process.stderr.write(`load server failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
