import fs from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { lowerThreadpoolPriority, threadStat, tryLowerThreadpoolPriority } from './threadpool-priority.js';

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

describe.skipIf(process.platform !== 'linux')('tryLowerThreadpoolPriority', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture() {
    const lines: string[] = [];
    return { lines, logger: createLogger('debug', { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream) };
  }

  it('logs a warning and resolves when /proc/self/task is missing', async () => {
    vi.spyOn(fs, 'readdirSync').mockImplementation(() => {
      throw Object.assign(new Error("ENOENT: no such file or directory, scandir '/proc/self/task'"), { code: 'ENOENT' });
    });
    const { lines, logger } = capture();
    await expect(tryLowerThreadpoolPriority(4, 10, logger)).resolves.toBeUndefined();
    expect(lines.join('')).toMatch(/"level":40[^\n]*\/proc\/self\/task[^\n]*could not lower the CPU priority/);
  });

  it('logs a warning and resolves when setpriority is refused', async () => {
    vi.spyOn(os, 'setPriority').mockImplementation(() => {
      throw new Error('A system error occurred: uv_os_setpriority returned EPERM (operation not permitted)');
    });
    const { lines, logger } = capture();
    await expect(tryLowerThreadpoolPriority(4, 10, logger)).resolves.toBeUndefined();
    expect(lines.join('')).toMatch(/"level":40[^\n]*EPERM[^\n]*could not lower the CPU priority/);
  });
});
