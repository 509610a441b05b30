import fs from 'node:fs';

/**
 * The path of an outside program a suite needs. Missing on a laptop: the suite is skipped with a
 * printed reason. Missing under CI=true: the suite fails, so CI always runs it.
 */
export function requireProgram(name: string, candidates: string[]): string | undefined {
  const found = candidates.find((p) => fs.existsSync(p));
  if (found) return found;
  const reason = `${name} is not installed (looked in ${candidates.join(', ')}); run: bash scripts/install-test-deps.sh`;
  if (process.env.CI === 'true') throw new Error(`CI must run this suite: ${reason}`);
  console.warn(`skipping: ${reason}`);
  return undefined;
}
