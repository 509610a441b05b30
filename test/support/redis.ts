import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './ports.js';

export interface ThrowawayRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL); its data is gone, as nothing is persisted. */
  kill(): Promise<void>;
  /** Starts it again on the same port; does nothing while it runs. */
  start(): Promise<void>;
  /** Stops the server (SIGSTOP): connections stay open and commands get no answer, as in a hang. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT); it answers what it was sent meanwhile. */
  resume(): void;
  destroy(): Promise<void>;
}

/** A throwaway redis-server on a loopback port with persistence off. */
export async function startRedis(bin: string): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function start(): Promise<void> {
    if (running()) return;
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function kill(): Promise<void> {
    const c = child;
    if (!c || !running()) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  }

  const signal = (name: NodeJS.Signals) => () => {
    if (running()) child!.kill(name);
  };

  async function destroy(): Promise<void> {
    signal('SIGCONT')();
    await kill();
  }

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, pause: signal('SIGSTOP'), resume: signal('SIGCONT'), destroy };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
