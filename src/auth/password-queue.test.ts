import { describe, expect, it } from 'vitest';
import { PasswordQueue } from './password-queue.js';
import { httpAnswerOf, httpAnswerOfThrown } from '../../test/support/http-answer.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PasswordQueue', () => {
  it('runs at most `concurrency` checks at once and the rest in arrival order', async () => {
    const queue = new PasswordQueue({ concurrency: 2, maxQueued: 10, maxWaitMs: 10_000 });
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

  it('answers overflow past maxQueued with a 503 LOGIN_BUSY error carrying Retry-After, without running it', async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 1, maxWaitMs: 10_000 });
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const second = queue.run(() => gate.promise);
    let ran = false;
    await expect(httpAnswerOf(queue.run(async () => {
      ran = true;
    }))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY', headers: { 'Retry-After': '1' } });
    expect(ran).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
  });

  it('frees the slot when a check fails', async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 0, maxWaitMs: 10_000 });
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(queue.run(async () => 'ok')).resolves.toBe('ok');
  });

  describe('the trusted lane', () => {
    it('starts a waiting trusted check before every untrusted one that waited longer', async () => {
      const queue = new PasswordQueue({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000 });
      const gate = deferred();
      const started: string[] = [];
      const check = (name: string) => async () => {
        started.push(name);
        await gate.promise;
      };
      const runs = [
        queue.run(check('running')),
        queue.run(check('untrusted-1')),
        queue.run(check('untrusted-2')),
        queue.run(check('trusted-1'), 'trusted'),
        queue.run(check('trusted-2'), 'trusted'),
      ];
      expect(queue.depth).toBe(4);
      gate.resolve();
      await Promise.all(runs);
      expect(started).toEqual(['running', 'trusted-1', 'trusted-2', 'untrusted-1', 'untrusted-2']);
    });

    it('admits a trusted check by its own lane while the untrusted lane is full, and refuses its own overflow with Retry-After', async () => {
      const queue = new PasswordQueue({ concurrency: 1, maxQueued: 1, maxWaitMs: 10_000 });
      const gate = deferred();
      const runs = [queue.run(() => gate.promise), queue.run(() => gate.promise)];
      expect(httpAnswerOfThrown(() => queue.assertAdmissible())).toMatchObject({ status: 503, code: 'LOGIN_BUSY' });
      expect(() => queue.assertAdmissible('trusted')).not.toThrow();
      runs.push(queue.run(() => gate.promise, 'trusted'));
      await expect(httpAnswerOf(queue.run(async () => undefined, 'trusted'))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY', headers: { 'Retry-After': '1' } });
      gate.resolve();
      await Promise.all(runs);
    });
  });

  describe('bounded by expected waiting time', () => {
    /** A queue on a fake clock whose checks each take `ms` of it, held until their gate opens. */
    function timedQueue(maxWaitMs: number) {
      let now = 0;
      const queue = new PasswordQueue({ concurrency: 1, maxQueued: 1000, maxWaitMs, now: () => now });
      const check = async (ms: number, gate: Promise<void> = Promise.resolve()) => {
        await gate;
        now += ms;
      };
      return { queue, check };
    }

    it('measures how long checks take as they run', async () => {
      const { queue, check } = timedQueue(1000);
      expect(queue.checkMs).toBeUndefined();
      await queue.run(() => check(400));
      expect(queue.checkMs).toBe(400);
      await queue.run(() => check(900));
      expect(queue.checkMs).toBe(500);
    });

    it('admits while the expected wait is under the limit and answers the rest 503 with Retry-After from the expected wait', async () => {
      const { queue, check } = timedQueue(1000);
      await queue.run(() => check(400));
      const gate = deferred();
      const admitted = [queue.run(() => check(400, gate.promise)), queue.run(() => check(400, gate.promise)), queue.run(() => check(400, gate.promise))];
      expect(queue.active).toBe(1);
      expect(queue.depth).toBe(2);
      expect(queue.expectedWaitMs).toBe(1200);
      let ran = false;
      const refused = queue.run(async () => {
        ran = true;
      });
      await expect(httpAnswerOf(refused)).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY', headers: { 'Retry-After': '2' } });
      expect(ran).toBe(false);
      gate.resolve();
      await Promise.all(admitted);
      expect(queue.expectedWaitMs).toBe(0);
    });

    it('refuses cheaply through assertAdmissible before any work is queued', async () => {
      const { queue, check } = timedQueue(500);
      await queue.run(() => check(600));
      const gate = deferred();
      const running = queue.run(() => check(600, gate.promise));
      expect(httpAnswerOfThrown(() => queue.assertAdmissible())).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
      gate.resolve();
      await running;
      expect(() => queue.assertAdmissible()).not.toThrow();
    });
  });
});
