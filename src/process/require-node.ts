import { unsupportedNodeProblem } from './node-version.js';

// Imported first by the entry points: on a Node that is too old, one line and exit 1.
const problem = unsupportedNodeProblem(process.version);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
