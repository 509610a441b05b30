import { LoginBusyError } from '../errors/domain-errors.js';

export interface PasswordQueueOptions {
  /** Checks running at once. */
  concurrency: number;
  /** Checks that may wait, whatever their expected wait: a bound on memory. */
  maxQueued: number;
  /** A check is admitted while the wait it can expect for a slot is below this. */
  maxWaitMs: number;
  now?: () => number;
}

/**
 * `trusted`: a login through a valid device cookie; its checks start before any waiting untrusted
 * one and it is admitted by its own lane's expected wait, so a flood filling the untrusted lane
 * does not keep known devices out.
 */
export type Lane = 'trusted' | 'untrusted';

/** Weight of the newest check in the moving average of check durations. */
const SMOOTHING = 0.2;

/**
 * Bounds password work: at most `concurrency` checks run at once (so bcrypt never holds every
 * libuv threadpool thread that session file reads need), and a check is admitted only while the
 * wait it can expect (the checks ahead of it times the measured check duration, over the slots) is
 * under `maxWaitMs`. A bound by count alone is filled by whoever opens the most connections; a bound
 * by waiting time lets a real user queue behind a flood and still get in. The rest are answered
 * 503 with Retry-After from the expected wait, before any other login work. Trusted checks have a
 * lane of their own, served first and bounded by its own wait (the same limits).
 */
export class PasswordQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxWaitMs: number;
  private readonly now: () => number;
  private running = 0;
  private readonly waiting: Record<Lane, Array<() => void>> = { trusted: [], untrusted: [] };
  private averageCheckMs: number | undefined;

  constructor({ concurrency, maxQueued, maxWaitMs, now = Date.now }: PasswordQueueOptions) {
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
    this.maxWaitMs = maxWaitMs;
    this.now = now;
  }

  /** Checks waiting for a slot. */
  get depth(): number {
    return this.waiting.trusted.length + this.waiting.untrusted.length;
  }

  get active(): number {
    return this.running;
  }

  /** How long one check takes, as measured (a moving average); undefined before the first ends. */
  get checkMs(): number | undefined {
    return this.averageCheckMs;
  }

  /** How long an untrusted check that arrived now would wait for a slot. */
  get expectedWaitMs(): number {
    return this.waitMsOf('untrusted');
  }

  /** How long a check of the lane that arrived now would wait for a slot (a trusted one waits only behind trusted ones). */
  waitMsOf(lane: Lane): number {
    if (this.running < this.concurrency) return 0;
    return ((this.ahead(lane) + 1) / this.concurrency) * (this.averageCheckMs ?? 0);
  }

  /** Throws the LoginBusyError (503 LOGIN_BUSY) a check of the lane arriving now would get: called first, so a refusal costs nothing else. */
  assertAdmissible(lane: Lane = 'untrusted'): void {
    if (this.running < this.concurrency) return;
    const waitMs = this.waitMsOf(lane);
    if (this.waiting[lane].length < this.maxQueued && waitMs < this.maxWaitMs) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new LoginBusyError(seconds);
  }

  async run<T>(work: () => Promise<T>, lane: Lane = 'untrusted'): Promise<T> {
    this.assertAdmissible(lane);
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    else this.running += 1;
    const started = this.now();
    try {
      return await work();
    } finally {
      const ms = this.now() - started;
      this.averageCheckMs = this.averageCheckMs === undefined ? ms : this.averageCheckMs + SMOOTHING * (ms - this.averageCheckMs);
      const next = this.waiting.trusted.shift() ?? this.waiting.untrusted.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Checks that start before a new one of the lane. */
  private ahead(lane: Lane): number {
    return lane === 'trusted' ? this.waiting.trusted.length : this.depth;
  }
}
