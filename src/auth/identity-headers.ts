import type { PublicUser } from '../users/user.js';

/** The headers that carry a user's identity to the main app (forward auth and built-in proxy). */
export const IDENTITY_HEADERS = ['x-auth-user', 'x-auth-user-id', 'x-auth-role', 'x-auth-user-encoded', 'x-auth-user-id-encoded'] as const;

/** Visible ASCII except '%': a value made only of these goes out as it is. */
const PLAIN = /^[\x21-\x24\x26-\x7e]+$/;

/**
 * The identity headers of a user. A user name or id with any other character (a space, a non-ASCII
 * letter, CR/LF, '%') cannot go into a header as it is: it is percent-encoded as UTF-8
 * (encodeURIComponent) and the companion header `X-Auth-User-Encoded` / `X-Auth-User-Id-Encoded`
 * says so with the value `percent`. Roles are a fixed set of plain names.
 */
export function identityHeaders(user: PublicUser): Record<string, string> {
  const headers: Record<string, string> = { 'x-auth-role': user.role };
  for (const [name, value] of [['x-auth-user', user.username], ['x-auth-user-id', user.id]] as const) {
    if (PLAIN.test(value)) {
      headers[name] = value;
    } else {
      headers[name] = encodeURIComponent(value);
      headers[`${name}-encoded`] = 'percent';
    }
  }
  return headers;
}
