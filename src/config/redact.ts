const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const PASSWORD_PARAM = /([?&;](?:password|passwd|pass|pwd|sslpassword)=)[^&;#]*/gi;
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/@"']*@/g;
export const URL_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'MAIN_APP_URL'] as const;

/**
 * A URL fit to print: everything between the scheme and the last "@" (user and password, even a
 * password holding "/" or "@" that no URL parser accepts) and password query parameters hidden.
 */
export function redactUrl(raw: string): string {
  const scheme = SCHEME.exec(raw)?.[0] ?? '';
  const rest = raw.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  return `${scheme}${at === -1 ? rest : `<credentials>${rest.slice(at)}`}`.replace(PASSWORD_PARAM, '$1<hidden>');
}

/** Text fit to print: the configured URLs wherever they appear, and any other URL's user info, hidden. */
export function redactText(text: string, env: Record<string, string | undefined>): string {
  let redacted = text;
  for (const name of URL_VARIABLES) {
    const raw = env[name]?.trim();
    if (raw) redacted = redacted.split(raw).join(redactUrl(raw));
  }
  return redacted.replace(USERINFO, '$1<credentials>@');
}
