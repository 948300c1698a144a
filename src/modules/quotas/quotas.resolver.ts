/**
 * `usage`: the caller's usage against their quotas (admins may ask for any user's).
 * `auditLog`: admin-only, newest first, keyset-paginated, filterable.
 */
import { GraphQLJSONObject } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { requireRole, requireUser } from '../../auth.js';
import type { Context } from '../../context.js';
import { AppError } from '../../errors.js';
import { afterCursorFilter, encodeCursor, PageInfo } from '../../graphql/connection.js';
import { isUuid } from '../../util/ids.js';
import { Role } from '../accounts/role.js';
import { AuditLog } from '../audit/audit-log.entity.js';
import { knexExec, usageOf } from './quotas.service.js';

@ObjectType({ description: 'Amount used against a limit (limit 0 = unlimited)' })
export class QuotaItem {
  @Field(() => Float)
  used: number;

  @Field(() => Float)
  limit: number;
}

@ObjectType()
export class Usage {
  @Field(() => QuotaItem, { description: 'Bytes of uploads and matrices of live datasets' })
  storageBytes: QuotaItem;

  @Field(() => QuotaItem, { description: 'Datasets not deleted' })
  datasets: QuotaItem;

  @Field(() => QuotaItem, { description: 'Jobs PENDING, QUEUED or RUNNING' })
  concurrentJobs: QuotaItem;

  @Field(() => QuotaItem, { description: 'GPU-pool minutes this calendar month (UTC)' })
  gpuMinutes: QuotaItem;
}

@ObjectType('AuditEntry', { description: 'One append-only audit log row' })
export class AuditEntryType {
  @Field(() => ID)
  id: string;

  @Field()
  createdAt: Date;

  @Field(() => ID, { nullable: true })
  actorId?: string;

  @Field()
  action: string;

  @Field(() => String, { nullable: true })
  targetType?: string;

  @Field(() => String, { nullable: true })
  targetId?: string;

  @Field()
  outcome: string;

  @Field(() => String, { nullable: true })
  ip?: string;

  @Field(() => GraphQLJSONObject, { nullable: true })
  details?: Record<string, unknown>;
}

@ObjectType()
export class AuditLogConnection {
  @Field(() => [AuditEntryType])
  nodes: AuditEntryType[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@InputType()
export class AuditLogFilter {
  @Field(() => String, { nullable: true, description: 'Exact action, or a prefix ending in "."' })
  action?: string | null;

  @Field(() => ID, { nullable: true })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  targetType?: string | null;

  @Field(() => String, { nullable: true })
  targetId?: string | null;

  @Field(() => String, { nullable: true, description: 'SUCCESS or FAILURE' })
  outcome?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;
}

@Resolver()
export class OpsResolver {
  @Query(() => Usage, { description: 'Usage against quotas: yours, or (admins) any user’s' })
  async usage(
    @Ctx() ctx: Context,
    @Arg('userId', () => ID, { nullable: true }) userId?: string | null,
  ): Promise<Usage> {
    const me = requireUser(ctx);
    let id = me.id;
    if (userId && userId !== me.id) {
      requireRole(ctx, Role.ADMIN);
      if (!isUuid(userId)) throw AppError.notFound('User', userId);
      id = userId;
    }
    const q = ctx.app.config.quotas;
    const u = await usageOf(knexExec(ctx.em.getKnex()), id);
    return {
      storageBytes: { used: u.storageBytes, limit: q.storageBytes },
      datasets: { used: u.datasets, limit: q.datasets },
      concurrentJobs: { used: u.concurrentJobs, limit: q.concurrentJobs },
      gpuMinutes: {
        used: Math.round(u.gpuMinutesThisMonth * 100) / 100,
        limit: q.gpuMinutesPerMonth,
      },
    };
  }

  @Query(() => AuditLogConnection, { description: 'Admin only: the audit log, newest first' })
  async auditLog(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter?: AuditLogFilter | null,
  ): Promise<AuditLogConnection> {
    requireRole(ctx, Role.ADMIN);
    if (first < 1 || first > 100) throw AppError.badInput('first must be 1 to 100', 'first');
    const where: Record<string, unknown> = { ...afterCursorFilter(after) };
    const f = filter ?? {};
    if (f.action) {
      where.action = f.action.endsWith('.')
        ? { $like: `${f.action.replace(/[%_\\]/g, '\\$&')}%` }
        : f.action;
    }
    if (f.actorId) {
      if (!isUuid(f.actorId)) throw AppError.badInput('actorId must be a UUID', 'filter.actorId');
      where.actorId = f.actorId;
    }
    if (f.targetType) where.targetType = f.targetType;
    if (f.targetId) where.targetId = f.targetId;
    if (f.outcome) where.outcome = f.outcome;
    if (f.since) where.createdAt = { ...((where.createdAt as object) ?? {}), $gte: f.since };
    const rows = await ctx.em.find(AuditLog, where, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: first + 1,
    });
    const page = rows.slice(0, first);
    const last = page[page.length - 1];
    return {
      nodes: page.map(r => ({ ...r })),
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
      },
    };
  }
}
