/**
 * A figure that is costly to work out (it walks every session), served from memory and worked out
 * again in the background at most once per `maxAgeMs`. Only the first call, and a call after a
 * failed refresh, waits for the work; `maxAgeMs` 0 works it out on every call.
 */
export class RefreshedValue<T> {
  private last: { at: number; value: T } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const last = this.last;
    if (last && this.now() - last.at < this.maxAgeMs) return Promise.resolve(last.value);
    const refreshing = this.refresh();
    if (!last || this.maxAgeMs === 0) return refreshing;
    refreshing.catch(() => undefined);
    return Promise.resolve(last.value);
  }

  /** Waits for a refresh in progress, if any (before closing the store it reads). */
  async settled(): Promise<void> {
    await this.pending?.catch(() => undefined);
  }

  private refresh(): Promise<T> {
    const started = this.now();
    this.pending ??= this.compute()
      .then(
        (value) => {
          this.last = { at: started, value };
          return value;
        },
        (error: unknown) => {
          // A figure that can no longer be worked out is not served on.
          this.last = undefined;
          throw error;
        },
      )
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
