import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { lowerThreadpoolPriority, threadStat } from './threadpool-priority.js';

describe.skipIf(process.platform !== 'linux')('lowerThreadpoolPriority', () => {
  it("raises the nice value of the threadpool's threads and leaves the event loop's thread alone", async () => {
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    const mainNice = threadStat(process.pid).nice;
    const lowered = await lowerThreadpoolPriority(poolSize, 10);
    expect(lowered).toHaveLength(poolSize);
    expect(lowered).not.toContain(process.pid);
    for (const tid of lowered) expect(threadStat(tid).nice).toBeGreaterThanOrEqual(10);
    expect(threadStat(process.pid).nice).toBe(mainNice);
    expect(os.getPriority(process.pid)).toBe(mainNice);
  });

  it('changes nothing when the niceness is 0', async () => {
    expect(await lowerThreadpoolPriority(4, 0)).toEqual([]);
  });
});
