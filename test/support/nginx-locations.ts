/** One top-level `location` block of a shipped nginx file, as its text says. */
export interface NginxLocation {
  modifier: '' | '=' | '^~' | '~' | '~*';
  pattern: string;
  body: string;
  internal: boolean;
  /** The upstream this location proxies to, or undefined (alias, return). */
  upstream: string | undefined;
  /** The path written in proxy_pass after the upstream, if any (`/api/auth/verify`). */
  proxyPath: string | undefined;
}

/** The server-level `location` blocks of a config file (nested ones stay inside their parent's body). */
export function parseLocations(text: string): NginxLocation[] {
  const source = text.replace(/^\s*#.*$/gm, '');
  const locations: NginxLocation[] = [];
  const head = /^location\s+(?:(=|\^~|~\*|~)\s+)?(\S+)\s*\{/gm;
  for (let match = head.exec(source); match; match = head.exec(source)) {
    const start = head.lastIndex;
    const end = closingBrace(source, start);
    const body = source.slice(start, end);
    const proxy = /proxy_pass\s+http:\/\/([\w.-]+)([^;?\s]*)/.exec(body);
    locations.push({
      modifier: (match[1] ?? '') as NginxLocation['modifier'],
      pattern: match[2]!,
      body,
      internal: /(^|[\s;{])internal;/.test(body),
      upstream: proxy?.[1],
      proxyPath: proxy?.[2] || undefined,
    });
    head.lastIndex = end + 1;
  }
  return locations;
}

/** nginx's choice for a (decoded, slash-merged) path: exact, then longest prefix (^~ stops), then regexes in order. */
export function selectLocation(locations: NginxLocation[], uri: string): NginxLocation | undefined {
  const named = (l: NginxLocation) => l.pattern.startsWith('@');
  const exact = locations.find((l) => l.modifier === '=' && l.pattern === uri);
  if (exact) return exact;
  const prefix = locations
    .filter((l) => (l.modifier === '' || l.modifier === '^~') && !named(l) && uri.startsWith(l.pattern))
    .sort((a, b) => b.pattern.length - a.pattern.length)[0];
  if (prefix?.modifier === '^~') return prefix;
  const regex = locations.find((l) => (l.modifier === '~' || l.modifier === '~*') && new RegExp(l.pattern, l.modifier === '~*' ? 'i' : '').test(uri));
  return regex ?? prefix;
}

/**
 * The plain paths a location stands for, with `sample` where it takes any further segment. Only the
 * simple shapes the shipped files use are understood (`^/a/(b|c)/?$`, `^/a(/|$)`, `^/a/`); any other
 * pattern throws, so a new one gets a look here.
 */
export function pathsOf(location: NginxLocation, sample: string): string[] {
  if (location.modifier === '=') return [location.pattern];
  if (location.modifier === '' || location.modifier === '^~') return [location.pattern + sample];
  const shape = /^\^([\w/-]*)(?:\(([\w/|-]+)\))?([\w/-]*)(\/\?\$|\(\/\|\$\))?$/.exec(location.pattern);
  if (!shape) throw new Error(`cannot list the paths of location ${location.modifier} ${location.pattern}`);
  const [, before, alternatives, after, tail] = shape;
  const tails = tail === '/?$' ? [''] : tail === '(/|$)' ? ['', `/${sample}`] : [sample];
  return (alternatives ?? '').split('|').flatMap((alt) => tails.map((t) => `${before}${alt}${after}${t}`));
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces in an nginx file');
}
