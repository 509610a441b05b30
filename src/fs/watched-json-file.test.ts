import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { eventually, LogCapture, tempDir } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { WatchedJsonFile } from './watched-json-file.js';

const files = closedAfterEach<WatchedJsonFile<{ n: number }>>();

function parse(text: string): { n: number } {
  const json = JSON.parse(text) as { n?: unknown };
  if (typeof json.n !== 'number') throw new Error('"n" must be a number');
  return { n: json.n };
}

async function open(write?: unknown) {
  const dir = await tempDir();
  const file = path.join(dir, 'data.json');
  if (write !== undefined) await fs.writeFile(file, JSON.stringify(write));
  const logs = new LogCapture();
  const watched = await WatchedJsonFile.open({ file, name: 'data file', whenMissing: 'using nothing', parse, logger: createLogger('debug', logs), pollIntervalMs: 20 });
  files.push(watched);
  const said = (msg: string) => logs.lines.filter((l) => l.msg === msg);
  return { file, watched, logs, said };
}

describe('WatchedJsonFile', () => {
  it('reads the file at start and again when it changes', async () => {
    const { file, watched, said } = await open({ n: 1 });
    expect(watched.value).toEqual({ n: 1 });
    await fs.writeFile(file, JSON.stringify({ n: 2 }));
    await eventually(async () => watched.value?.n === 2);
    expect(said('data file loaded')).toHaveLength(2);
  });

  it('keeps the last good version when the file turns invalid, and logs why', async () => {
    const { file, watched, said } = await open({ n: 1 });
    await fs.writeFile(file, JSON.stringify({ n: 'many' }));
    await eventually(async () => said('data file is invalid; keeping the last good version').length === 1);
    expect(said('data file is invalid; keeping the last good version')[0]).toMatchObject({ level: 50, reason: '"n" must be a number' });
    expect(watched.value).toEqual({ n: 1 });
  });

  it('keeps the last good version when the file is replaced by something it cannot read, and logs the error', async () => {
    const { file, watched, said } = await open({ n: 1 });
    await fs.rm(file);
    await fs.mkdir(file);
    await eventually(async () => said('data file cannot be read; keeping the last good version').length > 0);
    expect(said('data file cannot be read; keeping the last good version')[0]).toMatchObject({ level: 50, code: 'EISDIR' });
    await expect(watched.reload()).resolves.toBeUndefined();
    expect(watched.value).toEqual({ n: 1 });
  });

  it('reports a missing file once, and loads it when it appears', async () => {
    const { file, watched, said } = await open();
    await watched.reload();
    await watched.reload();
    expect(said('data file not found; using nothing')).toHaveLength(1);
    expect(watched.value).toBeUndefined();
    await fs.writeFile(file, JSON.stringify({ n: 3 }));
    await eventually(async () => watched.value?.n === 3);
  });
});
