import type { RequestHandler } from 'express';
import { cookieValue, type DeviceCookies } from './device-cookie.js';
import type { PasswordQueue } from './password-queue.js';

export interface LoginAdmissionOptions {
  queue: PasswordQueue;
  /** The login route's path (POST). */
  path: string;
  devices?: { cookies: DeviceCookies; name: string };
  /** How long a refused login is held before its answer (LOGIN_BUSY_DELAY_MS). */
  delayMs: number;
  /** Told of every login refused here (a metric, a counted log line: never a line per refusal). */
  onRefused: () => void;
}

/**
 * The password queue's refusal, first in the app: a login that could not expect a password slot
 * within `LOGIN_MAX_WAIT` is answered 503 LOGIN_BUSY (by the one error handler) before the request
 * log, the routers, the session, passport and the body parser. The answer is held `delayMs`
 * first: a flood's connections each wait for their answer before sending the next guess, so a
 * flood far larger than the queue cannot keep the event loop busy with refusals, and the checks
 * already admitted run at close to bcrypt's ceiling (answered at once, 64 connections made about
 * a thousand refusals a second here and cut the checks by half or more). A held refusal costs an
 * open connection, as an admitted login waiting in the queue does; MAX_CONNECTIONS bounds both.
 * The lane is the one the login service will use: trusted when the request carries a valid device
 * cookie (the service still checks that it names the user). A login that passes here (another
 * spelling of the path, a queue that filled meanwhile) is refused by the login service itself.
 */
export function refuseLoginsWhenBusy({ queue, path, devices, delayMs, onRefused }: LoginAdmissionOptions): RequestHandler {
  return (req, _res, next) => {
    if (req.method !== 'POST' || req.path !== path) return next();
    const trusted = devices !== undefined && devices.cookies.read(cookieValue(req.headers.cookie, devices.name)) !== undefined;
    try {
      queue.assertAdmissible(trusted ? 'trusted' : 'untrusted');
    } catch (error) {
      onRefused();
      if (delayMs === 0) return next(error);
      // A client that left meanwhile gets nothing: there is no one to answer.
      setTimeout(() => (req.socket.destroyed ? undefined : next(error)), delayMs);
      return;
    }
    next();
  };
}
