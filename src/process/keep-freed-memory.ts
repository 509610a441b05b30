import { forcedGc } from './gc.js';

// glibc caps its dynamic mmap threshold at 32 MiB on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX); a freed
// block of 16 MiB sets it to 16 MiB and the trim threshold to twice that.
const BLOCK_BYTES = 16 * 1024 * 1024;
let done = false;

/**
 * Lets the C allocator keep the memory an upload frees, instead of handing it back to the kernel
 * and faulting it in again a moment later.
 *
 * A large upload arrives as thousands of 64 KiB socket buffers, which the upload path frees every
 * few megabytes (releaseBuffers). glibc's malloc returns free memory at the top of its heap to the
 * kernel as soon as more than M_TRIM_THRESHOLD (128 KiB by default) is free, so every collection
 * gave back megabytes that the next reads faulted in again: on this project's 2-core VM that
 * doubled the time of a 20 MB upload (82.8 ms against 43.8 ms, medians of one interleaved run).
 * glibc raises the threshold by itself once a block it had mapped on its own is freed (mallopt(3),
 * "dynamic mmap threshold": the trim threshold becomes twice that block's size), so one 16 MiB
 * block, allocated, never touched and freed at start, makes it keep up to 32 MiB, and serve blocks
 * up to 16 MiB from its heap rather than mapping each. Untouched, the block never counts in RSS.
 * With another allocator (musl, jemalloc), or with MALLOC_TRIM_THRESHOLD_ set, this changes nothing.
 */
export function keepFreedMemory(): void {
  if (done) return;
  done = true;
  const collect = forcedGc();
  if (!collect) return;
  (() => Buffer.allocUnsafeSlow(BLOCK_BYTES))();
  collect({ type: 'major', execution: 'sync' });
}
