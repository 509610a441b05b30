const HOUR_MS = 3_600_000;

/** Logins of the last 24 hours in this process, in hourly buckets: memory stays constant. */
export class LoginStats {
  private readonly buckets = new Map<number, { succeeded: number; failed: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  record(outcome: 'succeeded' | 'failed'): void {
    const hour = Math.floor(this.now() / HOUR_MS);
    const bucket = this.buckets.get(hour) ?? { succeeded: 0, failed: 0 };
    bucket[outcome] += 1;
    this.buckets.set(hour, bucket);
    for (const key of this.buckets.keys()) if (key <= hour - 24) this.buckets.delete(key);
  }

  last24h(): { succeeded: number; failed: number } {
    const hour = Math.floor(this.now() / HOUR_MS);
    let succeeded = 0;
    let failed = 0;
    for (const [key, bucket] of this.buckets) {
      if (key > hour - 24) {
        succeeded += bucket.succeeded;
        failed += bucket.failed;
      }
    }
    return { succeeded, failed };
  }
}
