/**
 * The module registry: every feature module plugs its MikroORM entities and type-graphql resolvers
 * in here with one line each. `orm.ts` reads `entities`; `src/graphql/schema.ts` (server and
 * `scripts/emit-schema.ts`) builds the schema from `resolvers`.
 */
// --- imports
import { AccountsResolver } from './accounts/accounts.resolver.js';
import { ApiKey } from './accounts/api-key.entity.js';
import { RefreshToken } from './accounts/refresh-token.entity.js';
import { User } from './accounts/user.entity.js';
import { AuditLog } from './audit/audit-log.entity.js';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { DatasetResolver } from './datasets/dataset.resolver.js';
import { jobEntities, JobResultResolver, JobsResolver } from './jobs/index.js';
import { OpsResolver } from './quotas/quotas.resolver.js';
import { AdminOpsResolver } from '../ops/ops.resolver.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClassRef = abstract new (...args: any[]) => unknown;

export const entities: ClassRef[] = [
  // --- entities ---
  ...jobEntities,
  DatasetEntity,
  User,
  ApiKey,
  RefreshToken,
  AuditLog,
];

export const resolvers: ClassRef[] = [
  // --- resolvers ---
  OpsResolver,
  AdminOpsResolver,
  DatasetResolver,
  JobsResolver,
  JobResultResolver,
  AccountsResolver,
];
