/**
 * Group commit for statements that can serve many callers at once: what is submitted while `parallel`
 * flushes are running waits and goes into the next one, up to `max` items a flush. An item submitted
 * when a flush slot is free goes at once, so a lone caller waits for no one.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (out: O) => void; reject: (err: unknown) => void }[] = [];
  private running = 0;

  constructor(
    /** Results in the order of `items`. */
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly opts: { parallel: number; max: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running < this.opts.parallel) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.max);
        try {
          const out = await this.flush(batch.map((b) => b.item));
          batch.forEach((b, i) => {
            b.resolve(out[i] as O);
          });
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running--;
    }
  }
}
