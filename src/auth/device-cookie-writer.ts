import type { CookieOptions, RequestHandler, Response } from 'express';

/** What the login route leaves in res.locals for the writer: the cookie's name, value and attributes. */
export type PendingDeviceCookie = [name: string, value: string, options: CookieOptions];

/**
 * Sends the device cookie the login route left in `res.locals.deviceCookie` after the session
 * cookie, so the session cookie stays the first Set-Cookie (as clients and scripts read it).
 * express-session adds its cookie in a writeHead wrapper; registered before it, this wrapper is the
 * inner one and so runs after it. A Secure cookie is not sent over plain HTTP, as express-session
 * does with the session cookie (a browser would drop it anyway).
 */
export function deviceCookieWriter(): RequestHandler {
  return (req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<typeof writeHead>) {
      const pending = res.locals.deviceCookie as PendingDeviceCookie | undefined;
      if (pending && !(pending[2].secure && !req.secure)) res.cookie(...pending);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    next();
  };
}
