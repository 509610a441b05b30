// What a bench run does with its results: where it writes them, and its exit code.
import path from 'node:path';

/**
 * The files a run writes. The tracked copy (results/latest.{json,svg,md}) changes only with
 * --update-tracked; otherwise a run goes to results/runs/<date>.{json,svg,md}, which git ignores;
 * --out=DIR writes DIR/latest.*.
 */
export function outputFiles(argv, resultsDir, date) {
  const out = argv.find((a) => a.startsWith('--out='));
  if (out) return filesFor(path.resolve(out.slice('--out='.length)), 'latest');
  if (argv.includes('--update-tracked')) return filesFor(resultsDir, 'latest');
  return filesFor(path.join(resultsDir, 'runs'), date.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-'));
}

function filesFor(dir, base) {
  return { dir, json: path.join(dir, `${base}.json`), svg: path.join(dir, `${base}.svg`), md: path.join(dir, `${base}.md`) };
}

/** The figures that missed their target (pass === false; figures without a target never miss). */
export function missedTargets(results) {
  return results.flatMap((r) => r.figures.filter((f) => f.pass === false).map((f) => `${r.name}: ${f.name}`));
}

/** 1 when a target was missed, else 0. */
export function exitCode(results) {
  return missedTargets(results).length > 0 ? 1 : 0;
}
