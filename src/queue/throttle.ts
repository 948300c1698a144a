/**
 * Leading + trailing throttle for progress: the first update goes out at once, later ones at most
 * every `intervalMs`, and the latest value is always delivered (a final trailing flush), so
 * subscribers never get stuck on a stale percentage while the store stays ≤ ~10 events/s.
 */
export class Throttle<T> {
  private last = -Infinity;
  private pending: T | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (value: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(value: T): void {
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0 && !this.timer) {
      this.fire(value);
      return;
    }
    this.pending = value;
    this.timer ??= setTimeout(() => this.flush(), Math.max(wait, 0));
  }

  /** Deliver any pending value now (before a status change, so ordering stays intact). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending !== null) {
      const v = this.pending;
      this.pending = null;
      this.fire(v);
    }
  }

  /** Drop any pending value (the job ended; a late progress event would be misleading). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private fire(value: T): void {
    this.last = this.now();
    this.emit(value);
  }
}
