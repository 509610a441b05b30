import { describe, expect, it } from 'vitest';
import type { UserDirectory } from '../../src/users/user.js';

/**
 * The behaviour every user directory must have. `open` returns a directory that holds: "carol"
 * (admin, active, email "carol@example.com") and "dave" (b2b_user, disabled), and nobody named
 * "nobody".
 */
export function userDirectoryContract(name: string, open: () => Promise<UserDirectory>): void {
  describe(`${name} user directory (shared contract)`, () => {
    it('finds a user by username with id, role and a password hash', async () => {
      const users = await open();
      const carol = await users.findByUsername('carol');
      expect(carol).toMatchObject({ username: 'carol', role: 'admin' });
      expect(carol!.disabled ?? false).toBe(false);
      expect(carol!.passwordHash.length).toBeGreaterThan(20);
      await users.close();
    });

    it('finds a user by email, exactly as stored', async () => {
      const users = await open();
      expect(await users.findByEmail('carol@example.com')).toMatchObject({ username: 'carol', role: 'admin', email: 'carol@example.com' });
      expect(await users.findByEmail('nobody@example.com')).toBeUndefined();
      expect(await users.findByEmail('carol@example.com\u0000')).toBeUndefined();
      await users.close();
    });

    it('finds the same user by id', async () => {
      const users = await open();
      const carol = await users.findByUsername('carol');
      expect(await users.findById(carol!.id)).toMatchObject({ username: 'carol', role: 'admin' });
      await users.close();
    });

    it('reports a disabled user as disabled', async () => {
      const users = await open();
      expect((await users.findByUsername('dave'))?.disabled).toBe(true);
      await users.close();
    });

    it('answers unknown names and ids with undefined', async () => {
      const users = await open();
      expect(await users.findByUsername('nobody')).toBeUndefined();
      expect(await users.findById('00000000-0000-0000-0000-000000000000')).toBeUndefined();
      await users.close();
    });

    it('answers a name or id holding a NUL byte with undefined, not an error', async () => {
      const users = await open();
      expect(await users.findByUsername('carol\u0000')).toBeUndefined();
      expect(await users.findById('1\u0000')).toBeUndefined();
      await users.close();
    });
  });
}
