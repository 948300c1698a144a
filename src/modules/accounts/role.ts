/** Roles, lowest to highest. Each role has every right of the roles below it. */
export enum Role {
  USER = 'USER',
  RESEARCHER = 'RESEARCHER',
  ADMIN = 'ADMIN',
}

const RANK: Record<Role, number> = { [Role.USER]: 0, [Role.RESEARCHER]: 1, [Role.ADMIN]: 2 };

/** True when `role` is `required` or above it. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}
