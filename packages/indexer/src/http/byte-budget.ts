interface Waiter {
  bytes: number;
  resolve(taken: boolean): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Bytes counted against a fixed capacity (request bodies held in memory). Served in arrival order: a
 * request that does not fit waits behind earlier ones until enough is given back, or gives up after its
 * wait, so a stream of small bodies cannot starve a large one.
 */
export class ByteBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves true once `bytes` are taken, false if they did not fit within `waitMs`. */
  take(bytes: number, waitMs: number): Promise<boolean> {
    if (this.queue.length === 0 && this.used + bytes <= this.capacity) {
      this.used += bytes;
      return Promise.resolve(true);
    }
    if (bytes > this.capacity) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          resolve(false);
          // It may have been the one holding back smaller requests behind it.
          this.admit();
        }, waitMs),
      };
      this.queue.push(waiter);
    });
  }

  give(bytes: number): void {
    this.used -= bytes;
    this.admit();
  }

  private admit(): void {
    for (let head = this.queue[0]; head && this.used + head.bytes <= this.capacity; head = this.queue[0]) {
      this.queue.shift();
      clearTimeout(head.timer);
      this.used += head.bytes;
      head.resolve(true);
    }
  }
}
