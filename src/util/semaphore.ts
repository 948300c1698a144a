/**
 * Counting semaphore with a bounded wait queue. Used to cap concurrent argon2 work so a login flood
 * queues (and beyond `maxWaiting`, is refused) instead of starving the rest of the API.
 */
export class SemaphoreFullError extends Error {
  constructor() {
    super('too many operations waiting');
    this.name = 'SemaphoreFullError';
  }
}

export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting = Infinity,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new SemaphoreFullError());
    }
    return new Promise(resolve => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      next(); // hand the slot over directly; `active` stays the same
    } else {
      this.active--;
    }
  }
}
