/** Per-config singletons for the accounts module (hasher with its semaphore, JWT signer). */
import type { Config } from '../../config.js';
import { PasswordHasher } from './password.js';
import { TokenSigner } from './tokens.js';

export interface AccountsDeps {
  hasher: PasswordHasher;
  signer: TokenSigner;
}

const cache = new WeakMap<Config, AccountsDeps>();

export function accountsDeps(config: Config): AccountsDeps {
  let deps = cache.get(config);
  if (!deps) {
    deps = {
      hasher: new PasswordHasher(config.argon2),
      signer: new TokenSigner(config.jwtSecret, config.accessTokenTtlSeconds),
    };
    cache.set(config, deps);
  }
  return deps;
}
