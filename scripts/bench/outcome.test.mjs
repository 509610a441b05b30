import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCode, missedTargets, outputFiles } from './outcome.mjs';

const RESULTS = '/repo/scripts/bench/results';
const DATE = new Date('2026-11-30T21:55:07.123Z');

describe('npm run bench: output files', () => {
  it('writes an untracked run file under results/runs/ by default', () => {
    expect(outputFiles(['--quick'], RESULTS, DATE)).toEqual({
      dir: `${RESULTS}/runs`,
      json: `${RESULTS}/runs/2026-11-30T21-55-07Z.json`,
      svg: `${RESULTS}/runs/2026-11-30T21-55-07Z.svg`,
      md: `${RESULTS}/runs/2026-11-30T21-55-07Z.md`,
    });
  });

  it('updates the tracked results/latest.* only with --update-tracked', () => {
    expect(outputFiles(['--update-tracked'], RESULTS, DATE)).toMatchObject({ dir: RESULTS, json: `${RESULTS}/latest.json`, md: `${RESULTS}/latest.md` });
  });

  it('writes latest.* into the directory given with --out', () => {
    expect(outputFiles(['--out=elsewhere'], RESULTS, DATE)).toMatchObject({ json: path.resolve('elsewhere/latest.json') });
  });
});

describe('npm run bench: exit code', () => {
  const figure = (name, pass) => ({ name, value: 1, target: '> 0', pass });

  it('is 1 when any figure missed its target, naming it', () => {
    const results = [
      { name: 'upload', figures: [figure('ratio', true)] },
      { name: 'login storm', figures: [figure('p99', false), figure('info', undefined)] },
    ];
    expect(exitCode(results)).toBe(1);
    expect(missedTargets(results)).toEqual(['login storm: p99']);
  });

  it('is 0 when every target was met or a figure has no target', () => {
    expect(exitCode([{ name: 'upload', figures: [figure('ratio', true), figure('info', undefined)] }])).toBe(0);
  });
});
