import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Bans, CountEntry } from './bans.js';

/**
 * The server's control socket, for the in-process failure counts (no Redis): a Unix socket, mode
 * 0600, that answers JSON lines. Requests: {"op":"list"} and {"op":"unban","term":"<ip|username|device>"};
 * answers: {"ok":true,"entries":[...]} or {"ok":false,"error":"..."}. Nothing else is offered.
 */
const MAX_LINE = 4096;

type Request = { op: 'list' } | { op: 'unban'; term: string };
type Answer = { ok: true; entries: CountEntry[] } | { ok: false; error: string };

/** The socket could not be reached because no server listens on it. */
export class ServerNotRunning extends Error {}

/** Listens on `socketPath`; a socket it cannot open is logged and the server goes on without it. */
export async function listenBanSocket(socketPath: string, bans: Bans, logger: Logger): Promise<net.Server | undefined> {
  try {
    return await listen(socketPath, bans, logger);
  } catch (error) {
    logger.warn({ path: socketPath, err: error }, 'cannot open the control socket; `npm run users -- bans` cannot reach this server');
    return undefined;
  }
}

async function listen(socketPath: string, bans: Bans, logger: Logger): Promise<net.Server | undefined> {
  await fs.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const existing = await fs.lstat(socketPath).catch(() => undefined);
  if (existing && !existing.isSocket()) {
    logger.warn({ path: socketPath }, 'CONTROL_SOCKET names a file that is no socket; `npm run users -- bans` cannot reach this server');
    return undefined;
  }
  if (existing && (await answers(socketPath))) {
    logger.warn({ path: socketPath }, 'another server already answers on CONTROL_SOCKET; `npm run users -- bans` reaches that one, not this one');
    return undefined;
  }
  if (existing) await fs.rm(socketPath, { force: true }); // left by a server that was killed
  const server = net.createServer((connection) => serve(connection, bans, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await fs.chmod(socketPath, 0o600);
  server.unref();
  logger.info({ path: socketPath }, 'control socket listening (npm run users -- bans | unban)');
  return server;
}

function serve(connection: net.Socket, bans: Bans, logger: Logger): void {
  let buffered = '';
  connection.setEncoding('utf8');
  connection.on('error', () => undefined);
  connection.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_LINE && !buffered.includes('\n')) {
      connection.removeAllListeners('data');
      connection.end(`${JSON.stringify({ ok: false, error: 'request line too long' })}\n`);
      return;
    }
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      void answer(line, bans).then(
        (reply) => connection.write(`${JSON.stringify(reply)}\n`),
        (error: unknown) => {
          logger.warn({ err: error }, 'control socket request failed');
          connection.write(`${JSON.stringify({ ok: false, error: 'the request failed' })}\n`);
        },
      );
    }
  });
}

async function answer(line: string, bans: Bans): Promise<Answer> {
  let request: Partial<Request>;
  try {
    request = JSON.parse(line) as Partial<Request>;
  } catch {
    return { ok: false, error: 'each request is one line of JSON' };
  }
  if (request?.op === 'list') return { ok: true, entries: await bans.list() };
  if (request?.op === 'unban' && typeof request.term === 'string' && request.term !== '') return { ok: true, entries: await bans.lift(request.term) };
  return { ok: false, error: 'requests are {"op":"list"} or {"op":"unban","term":"<ip|username|device>"}' };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The users command's side: the bans of the server that listens on `socketPath`. */
export class BanSocketClient implements Bans {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  list(): Promise<CountEntry[]> {
    return this.ask({ op: 'list' });
  }

  lift(term: string): Promise<CountEntry[]> {
    return this.ask({ op: 'unban', term });
  }

  private ask(request: Request): Promise<CountEntry[]> {
    return new Promise((resolve, reject) => {
      let reply = '';
      const socket = net.connect(this.socketPath, () => socket.write(`${JSON.stringify(request)}\n`));
      socket.setEncoding('utf8');
      socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`the server did not answer on ${this.socketPath} within ${this.timeoutMs} ms`)));
      socket.on('data', (chunk: string) => {
        reply += chunk;
        if (!reply.includes('\n')) return;
        socket.end();
        const answer = JSON.parse(reply.slice(0, reply.indexOf('\n'))) as Answer;
        if (answer.ok) resolve(answer.entries);
        else reject(new Error(`The server refused the request: ${answer.error}`));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => reject(this.explain(error)));
    });
  }

  private explain(error: NodeJS.ErrnoException): Error {
    if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
      return new ServerNotRunning(
        `The sidecar is not running: nothing answers on ${this.socketPath}. Without Redis the bans live in the server's memory and end with it, so there is nothing to list or lift. (Started with another SESSION_DIR or CONTROL_SOCKET? Run this command with the same settings.)`,
      );
    }
    if (error.code === 'EACCES') return new Error(`No permission to connect to ${this.socketPath} (mode 0600): run the command as the user the sidecar runs as.`);
    return error;
  }
}
