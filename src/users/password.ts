import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';

export const BCRYPT_MAX_BYTES = 72;

/** Why a new password cannot be used, or undefined when it can. */
export function newPasswordProblem(password: string): string | undefined {
  if (password.length === 0) return 'The password is empty.';
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    return `The password is longer than bcrypt's limit of ${BCRYPT_MAX_BYTES} bytes (UTF-8); bcrypt would ignore the rest, so it is refused. Choose a shorter one.`;
  }
  if (password.length < 8) return 'The password is shorter than 8 characters.';
  return undefined;
}

export function hashPassword(password: string, cost: number): Promise<string> {
  const problem = newPasswordProblem(password);
  if (problem) return Promise.reject(new Error(problem));
  return bcrypt.hash(password, cost);
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Checks passwords so that an unknown user, a disabled user and a wrong password cost the same
 * bcrypt work: unknown users are checked against a hash of a random password.
 */
export class PasswordVerifier {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly cost: number,
    /** Called when a stored hash is in no known format (the login then fails like a wrong password). */
    private readonly onUnknownFormat?: () => void,
  ) {}

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    if (hash && isScryptHash(hash)) return verifyScrypt(password, hash);
    const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
    const known = hash !== undefined && isBcryptHash(hash);
    if (hash !== undefined && !known) this.onUnknownFormat?.();
    // $2y$ (PHP) is the same algorithm as $2b$; node's bcrypt only reads the latter.
    const target = known ? hash.replace(/^\$2y\$/, '$2b$') : await this.dummy();
    const matched = await bcrypt.compare(tooLong ? '' : password, target);
    return matched && !tooLong && known;
  }


  private dummy(): Promise<string> {
    const dummy = (this.dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), this.cost));
    return dummy;
  }
}

export function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}

/** The "hex.salt" scrypt format many Express starter apps store: scrypt(password, salt, 64) in hex. */
export function isScryptHash(hash: string): boolean {
  return /^[0-9a-f]{128}\.[0-9a-f]{16,}$/i.test(hash);
}

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [hex, salt] = stored.split('.') as [string, string];
  const expected = Buffer.from(hex, 'hex');
  const actual = await scryptAsync(password, salt, expected.length);
  return timingSafeEqual(actual, expected);
}
