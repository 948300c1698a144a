/** VerifiedTokens: verified once per token string, expiry honoured, failures never remembered. */
import {
  InvalidTokenError,
  TokenSigner,
  VerifiedTokens,
} from '../../../src/modules/accounts/tokens';

const SECRET = 'a'.repeat(43);
const USER = '00000000-0000-4000-8000-000000000001';

function counting(signer: TokenSigner) {
  let calls = 0;
  const verify = signer.verify.bind(signer);
  signer.verify = (token: string) => {
    calls++;
    return verify(token);
  };
  return () => calls;
}

it('verifies a token once and answers the same claims afterwards', async () => {
  const signer = new TokenSigner(SECRET, 900);
  const calls = counting(signer);
  const cache = new VerifiedTokens(signer);
  const { token } = await signer.sign(USER, 3);
  const first = await cache.verify(token);
  expect(first).toMatchObject({ sub: USER, tv: 3 });
  expect(await cache.verify(token)).toEqual(first);
  expect(calls()).toBe(1);
  expect(cache.size).toBe(1);
});

it('never remembers a refused token (tampered, other secret)', async () => {
  const signer = new TokenSigner(SECRET, 900);
  const cache = new VerifiedTokens(signer);
  const { token } = await signer.sign(USER, 0);
  const [h, p, sig] = token.split('.');
  const tampered = `${h}.${p}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`;
  const foreign = (await new TokenSigner('b'.repeat(43), 900).sign(USER, 0)).token;
  for (const bad of [tampered, foreign]) {
    await expect(cache.verify(bad)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(cache.verify(bad)).rejects.toBeInstanceOf(InvalidTokenError);
  }
  expect(cache.size).toBe(0);
});

it('re-verifies once the token is past its expiry (+ clock tolerance)', async () => {
  const signer = new TokenSigner(SECRET, 900);
  const calls = counting(signer);
  let now = Date.now() / 1000;
  const cache = new VerifiedTokens(signer, 10, () => now);
  const { token, expiresAt } = await signer.sign(USER, 0);
  await cache.verify(token);
  now = expiresAt.getTime() / 1000 + 29;
  await cache.verify(token);
  expect(calls()).toBe(1);
  now = expiresAt.getTime() / 1000 + 31;
  await cache.verify(token); // the signer (real clock) still accepts it: re-verified, re-cached
  expect(calls()).toBe(2);
});

it('keeps at most maxEntries tokens (oldest out)', async () => {
  const signer = new TokenSigner(SECRET, 900);
  const calls = counting(signer);
  const cache = new VerifiedTokens(signer, 2);
  const tokens = await Promise.all([0, 1, 2].map(async i => (await signer.sign(USER, i)).token));
  for (const t of tokens) await cache.verify(t);
  expect(cache.size).toBe(2);
  await cache.verify(tokens[2]!);
  expect(calls()).toBe(3);
  await cache.verify(tokens[0]!); // dropped first: verified again
  expect(calls()).toBe(4);
});
