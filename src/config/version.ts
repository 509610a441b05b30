import fs from 'node:fs';

/**
 * The sidecar's version, package.json's. Read from the file beside src/ and dist/ (both one level
 * below the project), so the built sidecar reports the package.json it was deployed with.
 */
export const VERSION: string = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
