import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DIST } from '../testing/processes.js';

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

/**
 * In a fresh process (the setting is per process and cannot be undone): fills 16 MiB of 64 KiB
 * buffers, as an upload's socket reads do, frees them with a full collection, and prints how many
 * MiB of RSS the process gave back to the kernel. The collector runs single-threaded, so the buffers
 * are freed before it returns, however busy the machine is.
 */
async function rssGivenBack(keep: boolean): Promise<number> {
  const url = (file: string) => pathToFileURL(path.join(DIST, 'process', file)).href;
  const script = `
    import fs from 'node:fs';
    import { forcedGc } from '${url('gc.js')}';
    import { keepFreedMemory } from '${url('keep-freed-memory.js')}';
    if (${keep}) keepFreedMemory();
    // Taken before the buffers: its first call allocates, and memory allocated above the buffers
    // would keep glibc from trimming them whatever the threshold.
    const collect = forcedGc();
    const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096 / 1048576;
    let held = Array.from({ length: 256 }, () => Buffer.allocUnsafeSlow(64 * 1024).fill(1));
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
  it('makes malloc keep the memory of freed socket-sized buffers instead of returning it to the kernel', async () => {
    const [plain, kept] = await Promise.all([rssGivenBack(false), rssGivenBack(true)]);
    // Without it glibc gives nearly all 16 MiB back (and the next reads fault it in again).
    expect(plain).toBeGreaterThan(8);
    expect(kept).toBeLessThan(4);
  });
});
