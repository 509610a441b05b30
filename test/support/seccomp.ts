import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.js';
import { requireProgram } from './programs.js';

/** x86_64 system call numbers of the calls systemd's SystemCallFilter=~@resources refuses that the sidecar makes. */
export const SYSCALLS = { setpriority: 141 } as const;

/**
 * Compiles test/support/deny-syscall.c into `dir` and answers the wrapper that runs a program with
 * one system call failing with EPERM: [helper, number]. Undefined (suite skipped) without gcc on
 * a laptop; under CI=true a missing gcc fails the suite.
 */
export async function denySyscallWrapper(dir: string, syscall: keyof typeof SYSCALLS): Promise<string[] | undefined> {
  const gcc = requireProgram('gcc', ['/usr/bin/gcc', '/usr/bin/cc']);
  if (!gcc) return undefined;
  const helper = path.join(dir, 'deny-syscall');
  await promisify(execFile)(gcc, ['-O', '-Wall', '-o', helper, path.join(ROOT, 'test/support/deny-syscall.c')]);
  return [helper, String(SYSCALLS[syscall])];
}
