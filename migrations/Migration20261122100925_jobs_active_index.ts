/**
 * A partial index for the quota's active-job count (`owner_id = ? AND status IN (PENDING, QUEUED,
 * RUNNING)`, run by every submit): it reads the owner's live jobs only, not their whole history.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122100925_jobs_active_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "jobs_owner_id_active_index" on "jobs" ("owner_id") where "status" in ('PENDING', 'QUEUED', 'RUNNING');`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "jobs_owner_id_active_index";`);
  }
}
