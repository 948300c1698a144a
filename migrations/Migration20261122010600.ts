/** Datasets: uploads parsed into a binary matrix in object storage; soft delete via deleted_at. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122010600 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "datasets" ("id" uuid not null, "owner_id" uuid not null, "name" varchar(200) not null, "description" text null, "data_type" text check ("data_type" in ('BULK_RNA_SEQ', 'SINGLE_CELL_RNA_SEQ', 'METHYLATION', 'COPY_NUMBER', 'PROTEOMICS', 'METABOLOMICS', 'CLINICAL', 'OTHER')) not null, "status" text check ("status" in ('UPLOADING', 'PROCESSING', 'READY', 'FAILED')) not null default 'UPLOADING', "failure_reason" text null, "failure" jsonb null, "metadata" jsonb not null, "parse_options" jsonb not null, "original_filename" varchar(255) null, "sample_count" int null, "feature_count" int null, "feature_names" jsonb null, "sample_ids" jsonb null, "outcome" jsonb null, "missing_count" int null, "sha256" varchar(64) null, "size_bytes" bigint null, "gzip" boolean null, "upload_key" varchar(255) not null, "matrix_key" varchar(255) not null, "matrix_sha256" varchar(64) null, "matrix_size_bytes" bigint null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "datasets_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "datasets_deleted_at_index" on "datasets" ("deleted_at");`);
    this.addSql(`create index "datasets_created_at_id_index" on "datasets" ("created_at", "id");`);
    this.addSql(
      `create index "datasets_owner_id_created_at_id_index" on "datasets" ("owner_id", "created_at", "id");`,
    );
    this.addSql(
      `alter table "datasets" add constraint "datasets_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "datasets" cascade;`);
  }
}
