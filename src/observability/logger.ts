import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines at `level`; with `pretty` (a terminal is attached) human-readable lines instead.
 * Passwords, hashes, cookies and tokens are censored wherever they appear in a logged object.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, options: { pretty?: boolean } = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'auth-upload-sidecar' },
      redact: {
        paths: [
          'password',
          '*.password',
          'passwordHash',
          '*.passwordHash',
          'req.headers.cookie',
          'req.headers.authorization',
          'req.headers["x-csrf-token"]',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
      ...(options.pretty && !destination ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname,service' } } } : {}),
    },
    destination as pino.DestinationStream | undefined,
  );
}
