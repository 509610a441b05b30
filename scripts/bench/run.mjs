// npm run bench [-- --quick] [-- --only=name,name] [-- --update-tracked]: measures each comparison in
// one run on this machine, prints a table, and writes JSON, Markdown and an SVG chart to
// scripts/bench/results/runs/ (untracked), or with --update-tracked to the tracked results/latest.*.
// Exits 1 when a target was missed.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HERE } from './lib.mjs';
import { runTmpDir } from '../run-tmp.mjs';
import { userThroughput } from './user-throughput.mjs';
import { unknownSession } from './unknown-session.mjs';
import { chart } from './chart.mjs';
import { exitCode, missedTargets, outputFiles } from './outcome.mjs';
import { uploadBench } from './upload.mjs';
import { authRequestBench } from './auth-request.mjs';
import { dashboardBench } from './dashboard.mjs';
import { loginCeiling } from './login-ceiling.mjs';
import { loginStorm } from './login-storm.mjs';
import { loginHeap } from './login-heap.mjs';
import { loginBurst } from './login-burst.mjs';
import { loginTiming } from './login-timing.mjs';
import { reapBench } from './reap.mjs';
import { scaleBench } from './scale.mjs';

const BENCHES = {
  'user-throughput': userThroughput,
  'unknown-session': unknownSession,
  upload: uploadBench,
  'auth-request': authRequestBench,
  dashboard: dashboardBench,
  'login-ceiling': loginCeiling,
  'login-storm': loginStorm,
  'login-burst': loginBurst,
  'login-timing': loginTiming,
  'login-heap': loginHeap,
  reap: reapBench,
  scale: scaleBench,
};

// Every temporary file of the run (servers' directories, nginx, PostgreSQL) goes under one
// directory, removed when the run ends.
process.env.TMPDIR = runTmpDir('sidecar-bench-');

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice(7).split(',') : Object.keys(BENCHES);
const ctx = { quick, seconds: quick ? 3 : 10 };

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
const results = [];
for (const name of only) {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.stderr.write(`running ${name}...\n`);
  const started = performance.now();
  const result = await bench(ctx);
  process.stderr.write(`${name} took ${Math.round((performance.now() - started) / 1000)} s\n`);
  results.push({ id: name, ...result });
  print(result);
}

const report = { date: new Date().toISOString(), quick, machine, results };
const out = outputFiles(process.argv, path.join(HERE, 'results'), new Date(report.date));
await fs.mkdir(out.dir, { recursive: true });
await fs.writeFile(out.json, `${JSON.stringify(report, null, 2)}\n`);
await fs.writeFile(out.svg, chart(report));
await fs.writeFile(out.md, markdown(report));
process.stderr.write(`wrote ${[out.json, out.svg, out.md].map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
const missed = missedTargets(results);
if (missed.length) process.stderr.write(`targets missed: ${missed.join('; ')}\n`);
process.exitCode = exitCode(results);

function print(result) {
  console.log(`\n## ${result.name}`);
  console.table(result.rows);
  for (const f of result.figures) console.log(`  ${f.name}: ${f.value}  (target ${f.target})${f.pass === undefined ? '' : f.pass ? '  PASS' : '  MISS'}`);
}

function markdown(report) {
  const lines = [`Measured ${report.date.slice(0, 10)} on ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}${report.quick ? ' (--quick)' : ''}.`, '', '| benchmark | figure | value | target |', '|---|---|---|---|'];
  for (const r of report.results) for (const f of r.figures) lines.push(`| ${r.name} | ${f.name} | ${f.value} | ${f.target}${f.pass === undefined ? '' : f.pass ? ' ✓' : ' ✗'} |`);
  return `${lines.join('\n')}\n`;
}
