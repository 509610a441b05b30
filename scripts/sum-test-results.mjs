// .ci/run's closing lines: each Node line's counts, then one line summing them (N passed, M failed, K skipped).
// Usage: node scripts/sum-test-results.mjs DIR RUNS   (DIR holds results-<node version>.json, one per run)
// A run that left no results (it stopped before the tests, e.g. at the type check) counts as one failed test.
import fs from 'node:fs';
import path from 'node:path';

const [dir, runs] = [process.argv[2], Number(process.argv[3])];
const files = fs.readdirSync(dir).filter((f) => /^results-.*\.json$/.test(f)).sort();
const total = { passed: 0, failed: 0, skipped: 0 };
for (const file of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const counts = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
  console.log(`Node ${file.slice('results-'.length, -'.json'.length)}: passed ${counts.passed}, failed ${counts.failed}, skipped ${counts.skipped}`);
  for (const key of Object.keys(total)) total[key] += counts[key];
}
if (files.length < runs) {
  console.log(`${runs - files.length} run(s) left no results (stopped before the tests): counted as failed`);
  total.failed += runs - files.length;
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
