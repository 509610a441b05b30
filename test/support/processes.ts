import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the nearest folder above this file with a package.json (this file also runs compiled, for the benchmarks, from test/.build). */
export const ROOT = repositoryRoot(path.dirname(fileURLToPath(import.meta.url)));

function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}
export const DIST = path.join(ROOT, 'dist');
/** package.json's version, as the sidecar should report it. */
export const PACKAGE_VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built script of the sidecar to completion, with `input` on standard input. Its data
 * directory is `cwd` unless `env` names another (DATA_DIR: '' for the default, the install
 * directory); `dist`: another built copy.
 */
export function runNode(script: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number; dist?: string }): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(options.dist ?? DIST, script), ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: options.cwd, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface RunningServer {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node dist/server.js` on a free loopback port and waits until it listens, with `cwd` as
 * its data directory unless `env` names another (as runNode). `wrapper`: a program and its
 * arguments that run node (e.g. one that installs a seccomp filter first).
 */
export function startServer(options: { cwd: string; env?: Record<string, string>; timeoutMs?: number; wrapper?: string[]; dist?: string }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = [...(options.wrapper ?? []), process.execPath, path.join(options.dist ?? DIST, 'server.js')];
    const child = spawn(command!, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', BCRYPT_COST: '4', DATA_DIR: options.cwd, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, options.timeoutMs ?? 15_000);
    const onData = (data: Buffer) => {
      output += data;
      const match = /"msg":"sidecar listening"/.test(output) && /"port":(\d+)[^\n]*"msg":"sidecar listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        const port = Number(match[1]);
        resolve({
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          output: () => output,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}
