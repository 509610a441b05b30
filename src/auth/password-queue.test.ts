import { describe, expect, it } from 'vitest';
import { PasswordQueue } from './password-queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PasswordQueue', () => {
  it('runs at most `concurrency` checks at once and the rest in arrival order', async () => {
    const queue = new PasswordQueue(2, 10);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) => queue.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(queue.active).toBe(2);
    expect(queue.depth).toBe(2);
    gates[1]!.resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(queue.active).toBe(0);
    expect(queue.depth).toBe(0);
  });

  it('answers overflow with a 503 LOGIN_BUSY error carrying Retry-After, without running it', async () => {
    const queue = new PasswordQueue(1, 1);
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const second = queue.run(() => gate.promise);
    let ran = false;
    await expect(queue.run(async () => {
      ran = true;
    })).rejects.toMatchObject({ status: 503, code: 'LOGIN_BUSY', headers: { 'Retry-After': '1' } });
    expect(ran).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
  });

  it('frees the slot when a check fails', async () => {
    const queue = new PasswordQueue(1, 0);
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(queue.run(async () => 'ok')).resolves.toBe('ok');
  });
});
