/** The oldest Node the sidecar runs on (package.json's engines: >=20.19) and the lines it is tested on. */
export const MINIMUM_NODE = { major: 20, minor: 19 };
export const TESTED_NODE_LINES = [20, 22, 24, 26];

/** One line saying what to do when `version` (as process.version: v20.19.0) is too old, else undefined. */
export function unsupportedNodeProblem(version: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  if (major > MINIMUM_NODE.major || (major === MINIMUM_NODE.major && minor >= MINIMUM_NODE.minor)) return undefined;
  const lines = TESTED_NODE_LINES.map((l) => (l === MINIMUM_NODE.major ? `${l} (${l}.${MINIMUM_NODE.minor} or later)` : String(l)));
  return `Node ${version} is not supported: install Node ${lines.slice(0, -1).join(', ')} or ${lines.at(-1)}`;
}
