import { configVariables, type Env } from './config.js';

/** Prefixes of the sidecar's variables: a set variable starting with one that the sidecar does not read is most likely a typo. */
const SIDECAR_PREFIXES = ['SESSION_', 'COOKIE_', 'LOGIN_', 'UPLOAD_', 'ADMIN_', 'REDIS_', 'USERS_', 'DATABASE_', 'MAIN_APP_', 'METRICS_', 'PASSWORD_', 'DEVICE_', 'HSTS_', 'BCRYPT_', 'TRUST_', 'ROLE_', 'SIDECAR_'];

export interface UnknownVariable {
  variable: string;
  /** The known name nearest to it, when one is near enough to be the intended one. */
  suggestion: string | undefined;
}

/**
 * Set variables the sidecar does not read but that look like its own: a sidecar prefix, or a
 * near miss of a known name (at most 1 edit for names of up to 5 characters, else 2; swapping two
 * neighbours is one edit). Warnings only: the environment holds many variables of others.
 */
export function unknownVariables(env: Env, known: readonly string[] = configVariables()): UnknownVariable[] {
  const found: UnknownVariable[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (known.includes(variable)) continue;
    const nearest = known
      .map((name) => ({ name, distance: editDistance(variable, name) }))
      .reduce((best, next) => (next.distance < best.distance ? next : best));
    const near = nearest.distance <= (Math.max(variable.length, nearest.name.length) <= 5 ? 1 : 2);
    if (near || SIDECAR_PREFIXES.some((prefix) => variable.startsWith(prefix))) {
      found.push({ variable, suggestion: nearest.distance <= 3 ? nearest.name : undefined });
    }
  }
  return found;
}

/** One line per unknown variable, for the start-up log. */
export function describeUnknown({ variable, suggestion }: UnknownVariable): string {
  return `${variable} is set but not a variable the sidecar reads (ignored)${suggestion ? `; did you mean ${suggestion}?` : ''}`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
