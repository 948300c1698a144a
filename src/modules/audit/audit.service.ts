/**
 * `audit(em, entry)` appends one audit row. It persists without flushing so the row commits
 * atomically with the change it records; call with `{ flush: true }` for standalone events
 * (e.g. a failed login that changes nothing else).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog, type AuditOutcome } from './audit-log.entity.js';

export interface AuditEntry {
  action: string;
  actorId?: string | null;
  targetType?: string;
  targetId?: string;
  outcome?: AuditOutcome;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export async function audit(
  em: EntityManager,
  entry: AuditEntry,
  options: { flush?: boolean } = {},
): Promise<void> {
  const row = em.create(AuditLog, {
    action: entry.action,
    actorId: entry.actorId ?? undefined,
    targetType: entry.targetType,
    targetId: entry.targetId,
    outcome: entry.outcome ?? 'SUCCESS',
    ip: entry.ip ?? undefined,
    details: entry.details,
  });
  em.persist(row);
  if (options.flush) {
    await em.flush();
  }
}

/** Same as `audit`, for code that works on knex directly (jobs); writes at once. */
export async function auditRaw(
  knex: { raw(sql: string, bindings: unknown[]): PromiseLike<unknown> },
  entry: AuditEntry,
): Promise<void> {
  await knex.raw(
    `INSERT INTO audit_log (id, created_at, actor_id, action, target_type, target_id, outcome, ip, details)
     VALUES (gen_random_uuid(), now(), ?, ?, ?, ?, ?, ?, ?::jsonb)`,
    [
      entry.actorId ?? null,
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.outcome ?? 'SUCCESS',
      entry.ip ?? null,
      entry.details ? JSON.stringify(entry.details) : null,
    ],
  );
}
