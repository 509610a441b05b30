import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/http-error.js';
import { PasswordVerifier } from '../users/password.js';
import type { User, UserDirectory } from '../users/user.js';
import type { DeviceClaim } from './device-cookie.js';
import { DeviceRegulation } from './device-regulation.js';
import { LoginService } from './login-service.js';
import { passwordStamp } from './passport.js';
import { PasswordQueue } from './password-queue.js';
import { LoginRegulation } from './regulation.js';
import { httpAnswerOf } from '../../test/support/http-answer.js';
import { TooManyAttemptsError } from '../errors/domain-errors.js';
import { toHttpError } from '../http/error-mapping.js';

const hash = bcrypt.hashSync('right-password', 4);
const CAROL: User = { id: 'c1', username: 'carol', role: 'admin', passwordHash: hash, email: 'carol@example.com' };
const DAVE: User = { id: 'd1', username: 'dave', role: 'b2b_user', passwordHash: hash, disabled: true };

function service({ maxFailuresPerUser = 2, down = false, maxQueued = 10 } = {}) {
  let lookups = 0;
  const directory: UserDirectory = {
    kind: 'test',
    findByUsername: async (name) => {
      lookups += 1;
      if (down) throw new HttpError(503, 'USER_DIRECTORY_UNAVAILABLE', 'down');
      return [CAROL, DAVE].find((u) => u.username === name);
    },
    findByEmail: async (email) => [CAROL, DAVE].find((u) => u.email === email),
    findById: async () => undefined,
    close: async () => undefined,
  };
  const verifier = new PasswordVerifier(4);
  let checks = 0;
  const verify = verifier.verify.bind(verifier);
  verifier.verify = (password, stored) => ((checks += 1), verify(password, stored));
  const passwordQueue = new PasswordQueue({ concurrency: 1, maxQueued, maxWaitMs: 10_000 });
  const regulation = new LoginRegulation({ maxFailuresPerUser, maxFailuresPerIp: 100, windowSeconds: 60, banSeconds: 60 });
  const devices = new DeviceRegulation({ maxFailures: 2, windowSeconds: 60 });
  const login = new LoginService({ users: directory, verifier, passwordQueue, regulation, devices });
  const attempt = (name: string, password: string, by: 'username' | 'email' = 'username', device?: DeviceClaim) =>
    login.authenticate({ ip: '203.0.113.1', by, name, password, device });
  return { attempt, passwordQueue, checks: () => checks, lookups: () => lookups };
}

describe('LoginService.authenticate', () => {
  it('answers succeeded with the user for the right password, failed for a wrong one', async () => {
    const { attempt } = service();
    expect(await attempt('carol', 'right-password')).toEqual({ outcome: 'succeeded', user: CAROL });
    expect(await attempt('carol', 'wrong-password')).toEqual({ outcome: 'failed' });
  });

  it('checks the password of an unknown or disabled user as it would a real one, and answers failed', async () => {
    const { attempt, checks } = service();
    expect(await attempt('dave', 'right-password')).toEqual({ outcome: 'failed' });
    expect(await attempt('nobody', 'right-password')).toEqual({ outcome: 'failed' });
    expect(checks()).toBe(2);
  });

  it('answers regulated with a 429, checking no password, once the pair has used its attempts', async () => {
    const { attempt, checks } = service();
    await attempt('carol', 'wrong-1');
    await attempt('carol', 'wrong-2');
    const result = await attempt('carol', 'right-password');
    expect(result).toMatchObject({ outcome: 'regulated', error: expect.any(TooManyAttemptsError) });
    expect(toHttpError((result as { error: unknown }).error)).toMatchObject({ status: 429, code: 'TOO_MANY_ATTEMPTS' });
    expect(checks()).toBe(2);
  });

  it('looks a user up by email and counts its failures under the same pair as its username', async () => {
    const { attempt, checks } = service();
    expect(await attempt('carol@example.com', 'right-password', 'email')).toEqual({ outcome: 'succeeded', user: CAROL });
    expect(await attempt('carol@example.com', 'wrong-1', 'email')).toEqual({ outcome: 'failed' });
    expect(await attempt('carol', 'wrong-2')).toEqual({ outcome: 'failed' });
    expect((await attempt('carol@example.com', 'right-password', 'email')).outcome).toBe('regulated');
    expect(checks()).toBe(3);
  });

  it('gives the attempt back when the queue refuses the check', async () => {
    const { attempt, passwordQueue } = service({ maxFailuresPerUser: 1 });
    const run = passwordQueue.run.bind(passwordQueue);
    passwordQueue.run = () => Promise.reject(new HttpError(503, 'LOGIN_BUSY', 'busy'));
    await expect(httpAnswerOf(attempt('carol', 'right-password'))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY' });
    await expect(httpAnswerOf(attempt('carol', 'right-password'))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY' });
    passwordQueue.run = run;
    expect((await attempt('carol', 'right-password')).outcome).toBe('succeeded');
  });

  it('answers LOGIN_BUSY from a full queue before looking the user up or counting the attempt', async () => {
    const { attempt, passwordQueue, lookups } = service({ maxFailuresPerUser: 1 });
    passwordQueue.assertAdmissible = () => {
      throw new HttpError(503, 'LOGIN_BUSY', 'busy');
    };
    await expect(httpAnswerOf(attempt('carol', 'wrong-password'))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY' });
    expect(lookups()).toBe(0);
    delete (passwordQueue as Partial<PasswordQueue>).assertAdmissible;
    expect((await attempt('carol', 'right-password')).outcome).toBe('succeeded');
  });

  it('passes a directory outage on as its 503, checking and counting nothing', async () => {
    const { attempt, checks } = service({ down: true });
    await expect(httpAnswerOf(attempt('carol', 'right-password'))).resolves.toMatchObject({ status: 503, code: 'USER_DIRECTORY_UNAVAILABLE' });
    expect(checks()).toBe(0);
  });

  it('admits a login through its user\'s device by the trusted lane while the untrusted lane is full, and answers its device id', async () => {
    const { attempt, passwordQueue } = service({ maxQueued: 1 });
    const gate = new Promise<void>((resolve) => setTimeout(resolve, 50));
    const busy = [passwordQueue.run(() => gate), passwordQueue.run(() => gate)];
    await expect(httpAnswerOf(attempt('carol', 'right-password'))).resolves.toMatchObject({ status: 503, code: 'LOGIN_BUSY', headers: { 'Retry-After': expect.any(String) } });
    const device: DeviceClaim = { userId: CAROL.id, stamp: passwordStamp(CAROL), deviceId: 'carol-laptop', expires: Date.now() + 60_000 };
    expect(await attempt('carol', 'right-password', 'username', device)).toEqual({ outcome: 'succeeded', user: CAROL, deviceId: 'carol-laptop' });
    await Promise.all(busy);
  });
});
