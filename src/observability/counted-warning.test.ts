import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogCapture } from '../../test/support/harness.js';
import { countedWarning } from './counted-warning.js';
import { createLogger } from './logger.js';

afterEach(() => vi.useRealTimers());

describe('a counted warning', () => {
  it('writes one line per window with the number of occurrences in it, and nothing in a window without any', async () => {
    vi.useFakeTimers();
    const logs = new LogCapture();
    const occurred = countedWarning(createLogger('info', logs), 'logins refused', { maxWaitSeconds: 15 }, 'refused', 10_000);
    for (let i = 0; i < 5000; i += 1) occurred();
    expect(logs.lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    occurred();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(logs.lines.map((l) => [l.msg, l.refused, l.maxWaitSeconds, l.level])).toEqual([
      ['logins refused', 5000, 15, 40],
      ['logins refused', 1, 15, 40],
    ]);
  });
});
