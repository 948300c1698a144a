/**
 * Authorization helpers for every module. In resolvers or services:
 *   const user = requireUser(ctx);               // any signed-in user (JWT or API key)
 *   const user = requireRole(ctx, Role.RESEARCHER);
 *   const user = requireSession(ctx);            // JWT only: account/key management
 * or declaratively `@Authorized()` / `@Authorized(Role.ADMIN)` (minimum role; see authChecker).
 */
import type { AuthChecker } from 'type-graphql';
import type { Context } from './context.js';
import { AppError } from './errors.js';
import { Role, roleAtLeast } from './modules/accounts/role.js';
import type { AuthUser as User } from './modules/accounts/auth-user.js';

export { Role } from './modules/accounts/role.js';

export function requireUser(ctx: Context): User {
  if (!ctx.auth) {
    throw AppError.unauthenticated();
  }
  return ctx.auth.user;
}

export function requireRole(ctx: Context, role: Role): User {
  const user = requireUser(ctx);
  if (!roleAtLeast(user.role, role)) {
    throw AppError.forbidden(`This needs the ${role} role`);
  }
  return user;
}

/** API keys are for automation: they cannot manage keys, sessions or users. */
export function requireSession(ctx: Context, role: Role = Role.USER): User {
  const user = requireRole(ctx, role);
  if (ctx.auth?.method !== 'jwt') {
    throw AppError.forbidden('API keys cannot do this; sign in with a password');
  }
  return user;
}

export function isAdmin(ctx: Context): boolean {
  return ctx.auth?.user.role === Role.ADMIN;
}

/**
 * type-graphql authChecker: `@Authorized()` needs a signed-in user, `@Authorized(Role.X, …)`
 * needs at least the lowest listed role. Throws (rather than returning false) so the client gets
 * our UNAUTHENTICATED (HTTP 401) / FORBIDDEN codes.
 */
export const authChecker: AuthChecker<Context, string> = ({ context }, roles) => {
  const user = requireUser(context);
  if (roles.length === 0) {
    return true;
  }
  const known = roles.filter((r): r is Role => (Object.values(Role) as string[]).includes(r));
  if (known.length !== roles.length) {
    throw new Error(`@Authorized with unknown role(s): ${roles.join(', ')}`);
  }
  if (!known.some(r => roleAtLeast(user.role, r))) {
    throw AppError.forbidden(`This needs the ${known.join(' or ')} role`);
  }
  return true;
};
