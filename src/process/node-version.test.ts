import { describe, expect, it } from 'vitest';
import { unsupportedNodeProblem } from './node-version.js';

describe('unsupportedNodeProblem', () => {
  it('names the supported lines for a Node older than 20.19', () => {
    for (const version of ['v18.20.4', 'v20.18.3', 'v16.0.0']) {
      expect(unsupportedNodeProblem(version)).toBe(`Node ${version} is not supported: install Node 20 (20.19 or later), 22, 24 or 26`);
    }
  });

  it('accepts 20.19 and every later line', () => {
    for (const version of ['v20.19.0', 'v20.20.2', 'v22.1.0', 'v24.11.1', 'v26.0.0']) expect(unsupportedNodeProblem(version)).toBeUndefined();
  });
});
