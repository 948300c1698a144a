/** AuthUserCache: TTL, size bound (oldest out), version kept with the row. Clock injected. */
import { AuthUserCache, type AuthUser } from '../../../src/modules/accounts/auth-user';
import { Role } from '../../../src/modules/accounts/role';

const user = (id: string, role = Role.USER): AuthUser => ({
  id,
  email: `${id}@example.org`,
  username: id,
  role,
  isActive: true,
  tokenVersion: 0,
  createdAt: new Date(0),
  lastLoginAt: null,
});

it('returns a row with the version it was read at until the TTL passes', () => {
  let now = 1000;
  const cache = new AuthUserCache(5000, 10, () => now);
  cache.set('u1', '3', user('u1', Role.ADMIN));
  expect(cache.peek('u1')).toEqual({ user: user('u1', Role.ADMIN), version: '3' });
  now += 4999;
  expect(cache.peek('u1')?.version).toBe('3');
  now += 1;
  expect(cache.peek('u1')).toBeUndefined();
  expect(cache.size).toBe(0);
});

it('replaces a row and its version; drops the oldest entry when full', () => {
  const cache = new AuthUserCache(5000, 2, () => 0);
  cache.set('a', '0', user('a'));
  cache.set('b', '0', user('b'));
  cache.set('a', '1', user('a', Role.RESEARCHER)); // re-set: now the newest
  cache.set('c', '0', user('c'));
  expect(cache.peek('b')).toBeUndefined();
  expect(cache.peek('a')).toEqual({ user: user('a', Role.RESEARCHER), version: '1' });
  expect(cache.peek('c')?.version).toBe('0');
  cache.delete('a');
  expect(cache.peek('a')).toBeUndefined();
});

it('caches nothing with a TTL of 0', () => {
  const cache = new AuthUserCache(0, 10, () => 0);
  cache.set('a', '0', user('a'));
  expect(cache.peek('a')).toBeUndefined();
});
