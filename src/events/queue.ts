/**
 * An unbounded single-consumer async queue. Each job loop owns one, so a slow
 * job only ever delays itself: the publisher pushes and returns at once.
 *
 * A plain array with a moving head keeps push/shift O(1) amortized without the
 * allocation of a linked list node per item; the backing array is compacted
 * once the consumed prefix dominates it.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: ((value: IteratorResult<T>) => void) | null = null;
  private closed = false;

  get length(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** Resolves with the next item, or `done` once the queue is closed and empty. */
  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++] as T;
      this.compact();
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) throw new Error('AsyncQueue has a single consumer');
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Items already queued are still delivered; new pushes are dropped. */
  close(): void {
    this.closed = true;
    if (this.waiter && this.length === 0) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
