/**
 * Coalesces calls made in the same turn of the event loop into one batch: `add(item)` resolves
 * when the batch holding the item has been handled, or rejects with the batch's error. Used where
 * every call would otherwise cost its own round trip (BullMQ adds, outbox confirmations) while
 * many submits are in flight; a lone call waits only until `setImmediate`.
 */
export class TickBatcher<T> {
  private pending: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    /** Upper bound per batch (a bigger backlog is split). */
    private readonly max = 500,
    /** 0: flush at the end of the tick (`setImmediate`); else after this many ms. */
    private readonly windowMs = 0,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += this.max) {
      const batch = all.slice(i, i + this.max);
      this.run(batch.map(b => b.item)).then(
        () => batch.forEach(b => b.resolve()),
        (err: unknown) => batch.forEach(b => b.reject(err)),
      );
    }
  }
}
