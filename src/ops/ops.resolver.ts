/**
 * Admin operations over GraphQL: the orphan scan report, and running retention / deleting orphans
 * on demand (both audited as admin actions).
 */
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { requireRole } from '../auth.js';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { Role } from '../modules/accounts/role.js';
import { audit } from '../modules/audit/audit.service.js';
import { orphanScan, runRetention } from './retention.js';

@ObjectType('OrphanReport')
export class OrphanReportType {
  @Field(() => Int)
  objectsScanned: number;

  @Field(() => [String], { description: 'Object keys whose dataset or job row does not exist' })
  orphanObjects: string[];

  @Field(() => [String], { description: 'READY datasets missing their upload or matrix object' })
  datasetsMissingObjects: string[];

  @Field(() => Int, { description: 'Orphaned objects deleted (deleteOrphans only)' })
  deleted: number;
}

@ObjectType('RetentionReport')
export class RetentionReportType {
  @Field(() => Int)
  datasetsPurged: number;

  @Field(() => Int)
  jobEventsDeleted: number;

  @Field(() => Int, {
    description: 'Jobs whose artifacts were deleted (ended more than RETENTION_ARTIFACT_DAYS ago)',
  })
  jobArtifactsPurged: number;

  @Field(() => Int, { description: 'Storage objects deleted by the artifact purge' })
  artifactObjectsDeleted: number;
}

@Resolver()
export class AdminOpsResolver {
  @Query(() => OrphanReportType, {
    description: 'Admin only: storage objects without rows and rows without objects',
  })
  async orphanReport(
    @Ctx() ctx: Context,
    @Arg('limit', () => Int, {
      defaultValue: 100,
      description: 'Keys listed per list (orphanObjects, datasetsMissingObjects), 1–100',
    })
    limit: number,
  ): Promise<OrphanReportType> {
    requireRole(ctx, Role.ADMIN);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw AppError.badInput('limit must be between 1 and 100', 'limit');
    }
    return orphanScan(ctx.app, { limit });
  }

  @Mutation(() => OrphanReportType, {
    description: 'Admin only: scan, then delete orphaned objects',
  })
  async deleteOrphans(@Ctx() ctx: Context): Promise<OrphanReportType> {
    const admin = requireRole(ctx, Role.ADMIN);
    const report = await orphanScan(ctx.app, { delete: true, limit: 1000 });
    await audit(
      ctx.em,
      {
        action: 'admin.deleteOrphans',
        actorId: admin.id,
        ip: ctx.ip,
        details: {
          deleted: report.deleted,
          datasetsMissingObjects: report.datasetsMissingObjects.length,
        },
      },
      { flush: true },
    );
    return report;
  }

  @Mutation(() => RetentionReportType, { description: 'Admin only: run the retention purge now' })
  async runRetention(@Ctx() ctx: Context): Promise<RetentionReportType> {
    const admin = requireRole(ctx, Role.ADMIN);
    const report = await runRetention(ctx.app);
    await audit(
      ctx.em,
      { action: 'admin.runRetention', actorId: admin.id, ip: ctx.ip, details: { ...report } },
      { flush: true },
    );
    return report;
  }
}
