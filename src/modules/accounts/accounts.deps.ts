/** Per-config singletons for the accounts module (hasher with its semaphore, JWT signer). */
import type { Config } from '../../config.js';
import { PasswordHasher } from './password.js';
import { TokenSigner, VerifiedTokens } from './tokens.js';

export interface AccountsDeps {
  hasher: PasswordHasher;
  signer: TokenSigner;
  /** `signer.verify` with a memory of tokens already verified (what requests use). */
  verified: VerifiedTokens;
}

const cache = new WeakMap<Config, AccountsDeps>();

export function accountsDeps(config: Config): AccountsDeps {
  let deps = cache.get(config);
  if (!deps) {
    const signer = new TokenSigner(config.jwtSecret, config.accessTokenTtlSeconds);
    deps = {
      hasher: new PasswordHasher(config.argon2),
      signer,
      verified: new VerifiedTokens(signer),
    };
    cache.set(config, deps);
  }
  return deps;
}
