/**
 * argon2id hashing with OWASP parameters (19 MiB, t=2, p=1 by default) behind a semaphore, so at
 * most ARGON2_CONCURRENCY hashes run at once; a bounded queue waits, beyond it RATE_LIMITED.
 */
import * as argon2 from 'argon2';
import { AppError } from '../../errors.js';
import { Semaphore, SemaphoreFullError } from '../../util/semaphore.js';

export interface Argon2Params {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
  concurrency: number;
}

export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummy: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params) {
    this.gate = new Semaphore(params.concurrency, params.concurrency * 32);
  }

  private options() {
    return {
      type: argon2.argon2id,
      memoryCost: this.params.memoryKiB,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    };
  }

  private async gated<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(fn);
    } catch (err) {
      if (err instanceof SemaphoreFullError) {
        throw AppError.rateLimited('The server is busy; try again in a moment', 2);
      }
      throw err;
    }
  }

  hash(password: string): Promise<string> {
    return this.gated(() => argon2.hash(password, this.options()));
  }

  /** False for malformed hashes too (never throws on bad input). */
  verify(hash: string, password: string): Promise<boolean> {
    return this.gated(() => argon2.verify(hash, password).catch(() => false));
  }

  /** Spends the same work as a real verify, for unknown accounts (no user-enumeration timing). */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= argon2.hash('not-a-real-password', this.options());
    await this.verify(await this.dummy, password);
    return false;
  }

  /** True when `hash` is not argon2id with the current parameters. */
  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) {
      return true;
    }
    return argon2.needsRehash(hash, {
      memoryCost: this.params.memoryKiB,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
  }
}
