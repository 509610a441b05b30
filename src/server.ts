import './process/require-node.js';
import type { Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { createApp, type AppState } from './app.js';
import { handleServerArgs } from './cli/server-args.js';
import { loadConfig, type Config, type Env } from './config/config.js';
import { dataPaths, strayFiles } from './config/data-paths.js';
import { ENV_FILE, readEnv } from './config/env-file.js';
import { ConfigError } from './config/errors.js';
import { redactText } from './config/redact.js';
import { describeUnknown, unknownVariables } from './config/unknown-variables.js';
import { listenBanSocket } from './auth/ban-socket.js';
import { buildDeps, closeDeps, type AppDeps } from './deps.js';
import { createHttpServer } from './http/http-server.js';
import { listenProblem } from './http/listen-problem.js';
import { countedWarning } from './observability/counted-warning.js';
import { createLogger, type Logger } from './observability/logger.js';
import { keepFreedMemory } from './process/keep-freed-memory.js';
import { tryLowerThreadpoolPriority } from './process/threadpool-priority.js';
import { UPLOAD_ROUTES } from './uploads/routes.js';
import { createFirstUser } from './users/bootstrap.js';

async function main(env: Env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n${unknownVariables(env).map((u) => `  (warning) ${describeUnknown(u)}\n`).join('')}`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, undefined, { pretty: process.stdout.isTTY === true });
  for (const unknown of unknownVariables(env)) logger.warn({ variable: unknown.variable, didYouMean: unknown.suggestion }, describeUnknown(unknown));
  const paths = dataPaths(config, ENV_FILE);
  logger.info(paths, `data directory ${config.dataDir}`);
  for (const warning of strayFiles(process.cwd(), paths)) logger.warn(warning);

  if (config.users.source === 'file') {
    const password = await createFirstUser(config.users.file, config.users.bcryptCost);
    if (password) announceFirstUser(config.users.file, password);
  }

  const deps = await buildDeps(config, logger);
  const control = config.controlSocket && deps.localBans ? await listenBanSocket(config.controlSocket, deps.localBans, logger) : undefined;
  await tryLowerThreadpoolPriority(config.login.threadpoolSize, config.login.threadpoolNice, logger);
  keepFreedMemory();
  const state: AppState = { draining: false };
  const app = createApp(config, deps, state);
  const server = createHttpServer(app, config.http, Object.values(UPLOAD_ROUTES).map((route) => route.path));
  reportDroppedConnections(server, config.http.maxConnections, logger);
  server.listen(config.port, config.host);
  const proxy = app.locals.proxy;
  if (proxy) server.on('upgrade', (req, socket, head) => proxy.upgrade(req, socket as Socket, head));
  server.on('listening', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ host: config.host, port, sessionStore: deps.sessionStore.kind, users: deps.users.kind }, 'sidecar listening');
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    const problem = listenProblem(error, config.port);
    if (problem) process.stderr.write(`${problem}\n`);
    logger.fatal({ err: error }, problem ?? 'cannot listen');
    process.exit(1);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal, config.shutdownTimeoutSeconds * 1000, { server, control, deps, state, logger }));
  }
}

/** Stops accepting, lets in-flight requests finish (at most `timeoutMs`), closes stores and pools, exits 0. */
async function shutdown(signal: string, timeoutMs: number, { server, control, deps, state, logger }: { server: Server; control?: NetServer; deps: AppDeps; state: AppState; logger: Logger }): Promise<void> {
  logger.info({ signal, timeoutMs }, 'draining: no new connections, finishing in-flight requests');
  state.draining = true;
  control?.close(); // removes the socket file
  const forced = setTimeout(() => {
    logger.warn('shutdown timeout: closing the connections still open');
    server.closeAllConnections();
  }, timeoutMs);
  forced.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await closeDeps(deps);
  logger.info('stopped');
  process.exit(0);
}

/** Connections closed at the cap are logged at most every 10 s, with their count. */
function reportDroppedConnections(server: Server, maxConnections: number, logger: Logger): void {
  server.on('drop', countedWarning(logger, 'connection cap reached: new connections were closed on arrival', { maxConnections }, 'dropped'));
}

function announceFirstUser(file: string, password: string): void {
  // Printed once, to the console only: this password never goes to the log.
  process.stdout.write(
    [
      '',
      '==================================================================',
      ` Created ${file} with one user.`,
      '   username: admin',
      `   password: ${password}`,
      ' This password is shown only now. Change it with:',
      '   npm run users -- passwd admin',
      '==================================================================',
      '',
    ].join('\n'),
  );
}

handleServerArgs(process.argv.slice(2));
const env = readEnv(ENV_FILE);
main(env).catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${redactText(String((error as Error)?.message ?? error), env)}\n`);
  process.exit(1);
});
