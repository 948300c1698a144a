/** Accounts (users, api_keys, refresh_tokens) and the append-only audit_log. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122005710 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_log" ("id" uuid not null, "created_at" timestamptz not null, "actor_id" uuid null, "action" varchar(64) not null, "target_type" varchar(32) null, "target_id" varchar(64) null, "outcome" varchar(16) not null, "ip" varchar(64) null, "details" jsonb null, constraint "audit_log_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "audit_log_created_at_index" on "audit_log" ("created_at");`);
    this.addSql(
      `create index "audit_log_target_type_target_id_index" on "audit_log" ("target_type", "target_id");`,
    );
    this.addSql(
      `create index "audit_log_actor_id_created_at_index" on "audit_log" ("actor_id", "created_at");`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "email" varchar(254) not null, "username" varchar(64) not null, "password_hash" text not null, "role" text check ("role" in ('USER', 'RESEARCHER', 'ADMIN')) not null default 'USER', "is_active" boolean not null default true, "token_version" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, "last_login_at" timestamptz null, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create unique index "users_username_lower_unique" on "users" (lower("username"));`,
    );
    this.addSql(`create unique index "users_email_lower_unique" on "users" (lower("email"));`);

    this.addSql(
      `create table "refresh_tokens" ("id" uuid not null, "user_id" uuid not null, "family_id" uuid not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "revoked_at" timestamptz null, constraint "refresh_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id");`);
    this.addSql(`create index "refresh_tokens_family_id_index" on "refresh_tokens" ("family_id");`);
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `create table "api_keys" ("id" uuid not null, "user_id" uuid not null, "name" varchar(100) not null, "prefix" varchar(16) not null, "key_hash" varchar(64) not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "expires_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_keys_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id");`);
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_key_hash_unique" unique ("key_hash");`,
    );

    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    // Append-only audit log: the application can insert but never rewrite history.
    this.addSql(
      `create function "audit_log_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit_log is append-only'; end $$;`,
    );
    this.addSql(
      `create trigger "audit_log_no_update" before update or delete on "audit_log" for each row execute function "audit_log_append_only"();`,
    );
    this.addSql(
      `create trigger "audit_log_no_truncate" before truncate on "audit_log" for each statement execute function "audit_log_append_only"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "audit_log_append_only"() cascade;`);
    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_user_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_user_id_foreign";`);

    this.addSql(`drop table if exists "audit_log" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);
  }
}
