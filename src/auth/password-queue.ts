import { HttpError } from '../http/http-error.js';

/**
 * Bounds password work: at most `concurrency` checks run at once (so bcrypt never holds every
 * libuv threadpool thread that session file reads need), at most `maxQueued` wait, and the rest
 * are answered 503 with Retry-After at once instead of waiting without bound.
 */
export class PasswordQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  /** Checks waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) {
        throw new HttpError(503, 'LOGIN_BUSY', 'Too many logins are being checked right now; try again in a moment', { headers: { 'Retry-After': '1' } });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next) next();
      else this.running -= 1;
    }
  }
}
