import { describe, expect, it } from 'vitest';
import { parseUsersDocument, parseUsersFile } from './users-file.js';

const HASH = `$2b$04$${'a'.repeat(53)}`;
const entry = (fields: Record<string, unknown>) => ({ id: String(fields.username), role: 'admin', passwordHash: HASH, ...fields });
const parse = (users: unknown[]) => parseUsersFile(JSON.stringify({ users }), 'users.json');

describe('parseUsersFile', () => {
  it('keeps an email address of an entry', () => {
    expect(parse([entry({ username: 'carol', email: 'carol@example.com' })])[0]).toMatchObject({ username: 'carol', email: 'carol@example.com' });
  });

  it('refuses an email that is not an address, naming the entry', () => {
    expect(() => parse([entry({ username: 'carol', email: 'carol' })])).toThrow('users[0] ("carol") field "email": must be an email address');
  });

  it('refuses one email on two entries', () => {
    expect(() => parse([entry({ username: 'carol', email: 'c@example.com' }), entry({ username: 'dave', email: 'c@example.com' })])).toThrow('email "c@example.com" appears twice');
  });

  it('names every bad entry and field at once', () => {
    expect(() => parse([entry({ username: 'carol', role: 'owner' }), entry({ username: 'dave', email: 'dave' }), entry({ username: 'carol' })])).toThrow(
      'users.json: users[0] ("carol") field "role": Invalid option: expected one of "super_admin"|"admin"|"b2b_user"; users[1] ("dave") field "email": must be an email address',
    );
  });

  it('keeps fields and top-level keys it does not know', () => {
    const text = JSON.stringify({ version: 2, users: [entry({ username: 'carol', tenantId: 'km', phone: '123' })] });
    expect(parseUsersDocument(text, 'users.json')).toEqual({ extra: { version: 2 }, users: [entry({ username: 'carol', tenantId: 'km', phone: '123' })] });
  });
});

