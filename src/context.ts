/**
 * The GraphQL context every resolver receives: a request-scoped entity manager (its own identity
 * map), the authenticated caller if any, and the app-wide services.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { PubSubHandle } from './graphql/pubsub.js';
import type { AuthUser } from './modules/accounts/auth-user.js';
import type { ObjectStorage } from './storage/storage.js';

/** Long-lived singletons shared by all requests (built once in `src/app.ts`). */
export interface AppServices {
  config: Config;
  orm: MikroORM;
  /** General-purpose Redis connection (rate limits, deny-lists). Not for pub/sub. */
  redis: Redis;
  storage: ObjectStorage;
  pubSub: PubSubHandle;
}

export type AuthMethod = 'jwt' | 'apiKey';

export interface AuthInfo {
  /**
   * The user row as of this request: read from PostgreSQL, or this process's copy of it when that
   * copy was read at the user's current auth version (so role and active state are current; see
   * `modules/accounts/auth-user.ts`). A snapshot, not a managed entity: to reference the user
   * from a new row use `em.getReference(User, user.id)`.
   */
  user: AuthUser;
  method: AuthMethod;
  /** JWT id and expiry (seconds since epoch) when method is 'jwt'. */
  jti?: string;
  expiresAt?: number;
  apiKeyId?: string;
  /**
   * The user's datasets version as of this request (JWT only), read in the same Redis call as the
   * deny-list: list pages cached at this version are current (`modules/datasets/dataset.version.ts`).
   */
  datasetsVersion?: string;
}

export interface Context {
  requestId: string;
  em: EntityManager;
  auth?: AuthInfo;
  ip?: string;
  app: AppServices;
}

const MAKE_EM = Symbol('makeEm');

/**
 * `em` as a getter on the prototype: the entity manager is forked when a resolver first uses it,
 * and not at all for requests served from caches and lean queries. (On the prototype, because
 * Apollo Server copies the context's own properties into a new object per operation: an own
 * getter would run, and fork, right there.)
 */
const lazyEmContext = {
  get em(): EntityManager {
    return (this as unknown as { [MAKE_EM]: () => EntityManager })[MAKE_EM]();
  },
};

/** A `Context` whose `em` is `fork()` of the app's, made on first use (once). */
export function contextWithLazyEm(fields: Omit<Context, 'em'>, orm: MikroORM): Context {
  let em: EntityManager | undefined;
  const ctx = Object.create(lazyEmContext) as Context & { [MAKE_EM]: () => EntityManager };
  ctx[MAKE_EM] = () => (em ??= orm.em.fork());
  return Object.assign(ctx, fields);
}
