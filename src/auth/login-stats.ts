const HOUR_MS = 3_600_000;

export type LoginOutcome = 'succeeded' | 'failed' | 'regulated';
type Counts = Record<LoginOutcome, number>;
const zero = (): Counts => ({ succeeded: 0, failed: 0, regulated: 0 });

/** Logins of the last 24 hours in this process, in hourly buckets: memory stays constant. */
export class LoginStats {
  private readonly buckets = new Map<number, Counts>();
  private readonly listeners: Array<(outcome: LoginOutcome) => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Also tells `listener` of every outcome (the metrics counter). */
  onRecord(listener: (outcome: LoginOutcome) => void): void {
    this.listeners.push(listener);
  }

  record(outcome: LoginOutcome): void {
    const hour = Math.floor(this.now() / HOUR_MS);
    const bucket = this.buckets.get(hour) ?? zero();
    bucket[outcome] += 1;
    this.buckets.set(hour, bucket);
    for (const key of this.buckets.keys()) if (key <= hour - 24) this.buckets.delete(key);
    for (const listener of this.listeners) listener(outcome);
  }

  last24h(): Counts {
    const hour = Math.floor(this.now() / HOUR_MS);
    const total = zero();
    for (const [key, bucket] of this.buckets) {
      if (key <= hour - 24) continue;
      for (const outcome of Object.keys(total) as LoginOutcome[]) total[outcome] += bucket[outcome];
    }
    return total;
  }
}
