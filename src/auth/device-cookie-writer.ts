import type { CookieOptions, RequestHandler, Response } from 'express';

/** What the login route leaves in res.locals for the writer: the cookie's name, value and attributes. */
export type PendingDeviceCookie = [name: string, value: string, options: CookieOptions];

/**
 * Sends the device cookie the login route left in `res.locals.deviceCookie` after the session
 * cookie, so the session cookie stays the first Set-Cookie (as clients and scripts read it).
 * express-session adds its cookie in a writeHead wrapper; registered before it, this wrapper is the
 * inner one and so runs after it.
 */
export function deviceCookieWriter(): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<typeof writeHead>) {
      const pending = res.locals.deviceCookie as PendingDeviceCookie | undefined;
      if (pending) res.cookie(...pending);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    next();
  };
}
