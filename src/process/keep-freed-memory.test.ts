import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DIST } from '../../test/support/processes.js';

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

/**
 * In a fresh process (the setting is per process and cannot be undone): fills eight 1 MiB buffers,
 * frees them with a full collection, and prints how many MiB of RSS the process gave back to the
 * kernel. By default glibc maps each block over 128 KiB on its own and unmaps it when freed, so all
 * 8 MiB go back whatever else the heap holds; once its dynamic threshold is raised, they come from
 * the heap and stay there for reuse. (The same raised threshold is what keeps freed 64 KiB socket
 * buffers: glibc trims its heap only past it. That case is not asserted here because whether the
 * freed buffers sit at the top of the heap, where trimming happens, depends on unrelated
 * allocations.)
 */
async function rssGivenBack(keep: boolean): Promise<number> {
  const url = (file: string) => pathToFileURL(path.join(DIST, 'process', file)).href;
  const script = `
    import fs from 'node:fs';
    import { forcedGc } from '${url('gc.js')}';
    import { keepFreedMemory } from '${url('keep-freed-memory.js')}';
    if (${keep}) keepFreedMemory();
    const collect = forcedGc();
    const statm = Buffer.alloc(256);
    const fd = fs.openSync('/proc/self/statm', 'r');
    const rss = () => Number(statm.toString('latin1', 0, fs.readSync(fd, statm, 0, 256, 0)).split(' ')[1]) * 4096 / 1048576;
    let held = Array.from({ length: 8 }, () => Buffer.allocUnsafeSlow(1024 * 1024).fill(1));
    const before = rss();
    held = null;
    collect({ type: 'major', execution: 'sync' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(before - rss());
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--single-threaded-gc', '--input-type=module', '-e', script], { timeout: 10_000 });
  return Number(stdout.trim());
}

describe.skipIf(process.platform !== 'linux' || !glibc)('keepFreedMemory (glibc)', () => {
  it('makes malloc keep freed memory for reuse instead of returning it to the kernel', async () => {
    const [plain, kept] = await Promise.all([rssGivenBack(false), rssGivenBack(true)]);
    expect(plain).toBeGreaterThan(6);
    expect(kept).toBeLessThan(1);
  });
});
