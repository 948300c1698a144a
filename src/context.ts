/**
 * The GraphQL context every resolver receives: a request-scoped entity manager (its own identity
 * map), the authenticated caller if any, and the app-wide services.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { PubSubHandle } from './graphql/pubsub.js';
import type { User } from './modules/accounts/user.entity.js';
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
  /** Loaded from the database for this request, so role and active state are current. */
  user: User;
  method: AuthMethod;
  /** JWT id and expiry (seconds since epoch) when method is 'jwt'. */
  jti?: string;
  expiresAt?: number;
  apiKeyId?: string;
}

export interface Context {
  requestId: string;
  em: EntityManager;
  auth?: AuthInfo;
  ip?: string;
  app: AppServices;
}
