import { randomBytes, scryptSync } from 'node:crypto';
import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { hashParameters, PasswordVerifier } from './password.js';

const scrypt = (password: string) => {
  const salt = randomBytes(16).toString('hex');
  return `${scryptSync(password, salt, 64).toString('hex')}.${salt}`;
};

describe('PasswordVerifier', () => {
  describe('the hash an unknown user is checked against', () => {
    it('has BCRYPT_COST before any stored hash is known', async () => {
      const verifier = new PasswordVerifier(5);
      expect(hashParameters(await verifier.dummyHash())).toBe('bcrypt cost 5');
    });

    it('has the cost most common among the directory hashes, not BCRYPT_COST', async () => {
      const verifier = new PasswordVerifier(4);
      verifier.learn([await bcrypt.hash('a', 6), await bcrypt.hash('b', 6), await bcrypt.hash('c', 5)]);
      const dummy = await verifier.dummyHash();
      expect(hashParameters(dummy)).toBe('bcrypt cost 6');
      expect(await verifier.verify('a', undefined)).toBe(false);
    });

    it('is a scrypt hex.salt hash of the same key and salt length when the directory holds scrypt hashes', async () => {
      const verifier = new PasswordVerifier(4);
      const stored = scrypt('secret');
      verifier.learn([stored, scrypt('other'), await bcrypt.hash('x', 4)]);
      const dummy = await verifier.dummyHash();
      expect(hashParameters(dummy)).toBe(hashParameters(stored));
      expect(dummy).not.toBe(stored);
    });

    it('follows the real hashes it checks', async () => {
      const verifier = new PasswordVerifier(4);
      const stored = await bcrypt.hash('right', 6);
      expect(await verifier.verify('wrong', stored)).toBe(false);
      expect(hashParameters(await verifier.dummyHash())).toBe('bcrypt cost 6');
    });

    it('waits for the directory sample, and falls back to BCRYPT_COST when sampling fails', async () => {
      const sampled = new PasswordVerifier(4);
      const hash = await bcrypt.hash('a', 6);
      void sampled.learnFrom(() => new Promise((resolve) => setTimeout(() => resolve([hash]), 20)), () => undefined);
      expect(hashParameters(await sampled.dummyHash())).toBe('bcrypt cost 6');
      const failed = new PasswordVerifier(4);
      let reason: unknown;
      await failed.learnFrom(() => Promise.reject(new Error('down')), (error) => (reason = error));
      expect((reason as Error).message).toBe('down');
      expect(hashParameters(await failed.dummyHash())).toBe('bcrypt cost 4');
    });
  });

  it('replaces what it learned with a fresh sample of the directory', async () => {
    const verifier = new PasswordVerifier(4);
    verifier.learn([await bcrypt.hash('a', 5), await bcrypt.hash('b', 5)]);
    await verifier.learnFrom(async () => [await bcrypt.hash('c', 6)], () => undefined);
    expect(hashParameters(await verifier.dummyHash())).toBe('bcrypt cost 6');
  });

  it('counts each distinct hash once, so logins to one user do not outvote the directory', async () => {
    const verifier = new PasswordVerifier(4);
    verifier.learn([await bcrypt.hash('a', 5), await bcrypt.hash('b', 5)]);
    const one = await bcrypt.hash('c', 6);
    for (let i = 0; i < 3; i += 1) await verifier.verify('wrong', one);
    expect(hashParameters(await verifier.dummyHash())).toBe('bcrypt cost 5');
  });

  it('names no parameters for a hash in no known format', () => {
    expect(hashParameters('plain-password')).toBeUndefined();
    expect(hashParameters(`$2b$10$${'a'.repeat(53)}`)).toBe('bcrypt cost 10');
  });
});
