import { pbkdf2 } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import type { Logger } from '../observability/logger.js';

const pbkdf2Async = promisify(pbkdf2);
// About 50 ms of CPU per probe job on a current core: several clock ticks, short at start-up.
const PROBE_ITERATIONS = 200_000;
const MIN_TICKS = 2;

/**
 * Lowers the CPU priority (raises the nice value) of libuv's threadpool threads, where bcrypt
 * runs, so that when password checks fill every core the event loop still gets the CPU it needs
 * and logged-in users' requests keep flowing; idle cores still go to bcrypt in full. Linux only.
 * The pool's threads carry no name, so they are found by giving each one a short CPU-bound job
 * and seeing which threads used CPU meanwhile. Answers the thread ids it changed.
 */
export async function lowerThreadpoolPriority(poolSize: number, niceness: number): Promise<number[]> {
  if (process.platform !== 'linux' || niceness <= 0) return [];
  const before = new Map(threadIds().map((tid) => [tid, cpuTicks(tid)]));
  await Promise.all(Array.from({ length: poolSize }, () => pbkdf2Async('probe', 'threadpool', PROBE_ITERATIONS, 32, 'sha256')));
  const used = threadIds()
    .filter((tid) => tid !== process.pid)
    .map((tid) => ({ tid, ticks: cpuTicks(tid) - (before.get(tid) ?? 0) }))
    .filter((t) => t.ticks >= MIN_TICKS)
    .sort((a, b) => b.ticks - a.ticks)
    .slice(0, poolSize)
    .map((t) => t.tid);
  for (const tid of used) os.setPriority(tid, Math.max(os.getPriority(tid), niceness));
  return used;
}

/**
 * lowerThreadpoolPriority as an optional start-up step: where it is refused (setpriority failing with
 * EPERM under systemd's SystemCallFilter=~@resources, no /proc mounted) the sidecar logs a warning
 * and starts anyway, at normal priority.
 */
export async function tryLowerThreadpoolPriority(poolSize: number, niceness: number, logger: Logger): Promise<void> {
  try {
    const lowered = await lowerThreadpoolPriority(poolSize, niceness);
    logger.debug({ threads: lowered.length, nice: niceness }, 'lowered the CPU priority of the threadpool (password checks)');
  } catch (error) {
    logger.warn(
      { error: (error as Error).message, nice: niceness },
      'could not lower the CPU priority of the threadpool (password checks); going on at normal priority (THREADPOOL_NICE=0 skips this step)',
    );
  }
}

export function threadIds(): number[] {
  return fs.readdirSync('/proc/self/task').map(Number);
}

/** A thread's nice value and CPU time (user + system, in clock ticks), from /proc. */
export function threadStat(tid: number): { nice: number; ticks: number } {
  const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after "(comm) ": state is field 3, utime 14, stime 15, nice 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { nice: Number(fields[16]), ticks: Number(fields[11]) + Number(fields[12]) };
}

function cpuTicks(tid: number): number {
  try {
    return threadStat(tid).ticks;
  } catch {
    return 0; // the thread ended meanwhile
  }
}
