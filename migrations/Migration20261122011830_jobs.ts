/** Jobs: job rows (state, routing, outbox flag, fencing attempt), per-job event log, one result per job. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122011830_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "jobs" ("id" uuid not null, "owner_id" uuid not null, "dataset_id" uuid not null, "type" text check ("type" in ('FEATURE_SELECTION', 'MODEL_TRAINING', 'HYPERPARAMETER_TUNING', 'BENCHMARKING', 'PREPROCESSING', 'PREDICTION')) not null, "status" text check ("status" in ('PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')) not null default 'PENDING', "config" jsonb not null, "device_requested" text check ("device_requested" in ('AUTO', 'CPU', 'GPU')) not null default 'AUTO', "pool" text check ("pool" in ('cpu', 'gpu')) not null default 'cpu', "priority" text check ("priority" in ('HIGH', 'NORMAL', 'LOW')) not null default 'NORMAL', "idempotency_key" varchar(128) null, "request_hash" varchar(64) null, "depends_on" uuid[] not null default '{}', "batch_id" uuid null, "progress" double precision not null default 0, "stage" varchar(200) null, "message" text null, "eta_seconds" int null, "attempt" int not null default 0, "device_used" varchar(200) null, "device_info" jsonb null, "worker_id" varchar(200) null, "error_code" varchar(32) null, "error_message" text null, "last_seq" int not null default 0, "enqueued_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "queued_at" timestamptz null, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "jobs_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "jobs_dataset_id_index" on "jobs" ("dataset_id");`);
    this.addSql(`create index "jobs_batch_id_index" on "jobs" ("batch_id");`);
    this.addSql(`create index "jobs_depends_on_gin" on "jobs" using gin ("depends_on");`);
    this.addSql(`create index "jobs_status_updated_at_index" on "jobs" ("status", "updated_at");`);
    this.addSql(
      `create index "jobs_owner_id_created_at_id_index" on "jobs" ("owner_id", "created_at", "id");`,
    );
    this.addSql(
      `alter table "jobs" add constraint "jobs_owner_id_idempotency_key_unique" unique ("owner_id", "idempotency_key");`,
    );

    this.addSql(
      `create table "job_results" ("id" uuid not null default gen_random_uuid(), "job_id" uuid not null, "attempt" int not null, "summary" jsonb not null, "data" jsonb not null, "artifacts" jsonb not null default '[]', "created_at" timestamptz not null default now(), constraint "job_results_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "job_results" add constraint "job_results_job_id_unique" unique ("job_id");`,
    );

    this.addSql(
      `create table "job_events" ("id" bigserial primary key, "job_id" uuid not null, "seq" int not null, "kind" text check ("kind" in ('STATUS', 'PROGRESS', 'LOG', 'RESULT')) not null, "status" text check ("status" in ('PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')) not null, "progress" double precision not null, "stage" varchar(200) null, "message" text null, "at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "job_events" add constraint "job_events_job_id_seq_unique" unique ("job_id", "seq");`,
    );

    this.addSql(
      `alter table "jobs" add constraint "jobs_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "jobs" add constraint "jobs_dataset_id_foreign" foreign key ("dataset_id") references "datasets" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "job_results" add constraint "job_results_job_id_foreign" foreign key ("job_id") references "jobs" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "job_events" add constraint "job_events_job_id_foreign" foreign key ("job_id") references "jobs" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "job_results" drop constraint "job_results_job_id_foreign";`);

    this.addSql(`alter table "job_events" drop constraint "job_events_job_id_foreign";`);

    this.addSql(`drop table if exists "jobs" cascade;`);

    this.addSql(`drop table if exists "job_results" cascade;`);

    this.addSql(`drop table if exists "job_events" cascade;`);
  }
}
