/**
 * `npm run create-admin -- --email you@example.org --username admin`
 *   Creates an ADMIN account (password from ADMIN_PASSWORD, else asked on the terminal), or, when
 *   the email/username already exists, promotes that account to ADMIN (password untouched).
 * Works while `npm start` is running (uses its database) or on its own.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadConfig } from './config.js';
import { initOrm, migrateUp } from './orm.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './modules/accounts/accounts.input.js';
import { PasswordHasher } from './modules/accounts/password.js';
import { Role } from './modules/accounts/role.js';
import { User } from './modules/accounts/user.entity.js';
import { audit } from './modules/audit/audit.service.js';
import { databaseForCommand } from './services/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** ILIKE without wildcards: exact, case-insensitive match. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

async function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) {
        process.stdout.write(chunk);
      }
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise(resolve => {
    rl.question(question, answer => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function main(): Promise<number> {
  const email = arg('email');
  const username = arg('username');
  if (!email || !username) {
    process.stderr.write(
      'usage: npm run create-admin -- --email you@example.org --username admin\n' +
        '       (password from ADMIN_PASSWORD or prompted; existing accounts are promoted)\n',
    );
    return 2;
  }
  const config = loadConfig();
  const db = await databaseForCommand(config);
  const orm = await initOrm({ clientUrl: db.databaseUrl });
  try {
    await migrateUp(orm);
    const em = orm.em.fork();
    const existing = await em.findOne(User, {
      $or: [
        { email: { $ilike: escapeLike(email) } },
        { username: { $ilike: escapeLike(username) } },
      ],
    });
    if (existing) {
      existing.role = Role.ADMIN;
      existing.isActive = true;
      await audit(em, {
        action: 'user.setRole',
        targetType: 'user',
        targetId: existing.id,
        details: { to: Role.ADMIN, via: 'create-admin' },
      });
      await em.flush();
      process.stdout.write(`Promoted ${existing.username} <${existing.email}> to ADMIN\n`);
      return 0;
    }
    const password =
      process.env.ADMIN_PASSWORD ??
      (process.stdin.isTTY ? await askHidden(`Password for ${username}: `) : '');
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      process.stderr.write(
        `Password must be ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters (ADMIN_PASSWORD or prompt)\n`,
      );
      return 2;
    }
    const user = em.create(User, {
      email,
      username,
      role: Role.ADMIN,
      passwordHash: await new PasswordHasher(config.argon2).hash(password),
    });
    await audit(em, {
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      details: { role: Role.ADMIN, via: 'create-admin' },
    });
    await em.flush();
    process.stdout.write(`Created ADMIN ${username} <${email}>\n`);
    return 0;
  } finally {
    await orm.close(true);
    await db.stop();
  }
}

main().then(
  code => process.exit(code),
  err => {
    process.stderr.write(
      `create-admin failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
